-- The built-in templates ask for the QR_SCAN pre-approval screen, as a bank's template does
-- when it offers a proximity check. The mobile API shows it only for an operation that has a
-- proximity OTP (the enrollment server drops it otherwise). A template an operator has
-- changed since is left alone.

UPDATE operation_templates
SET ui = '{"flipButtons":false,"blockApprovalOnCall":false,"preApprovalScreen":{"type":"QR_SCAN","heading":"Scan the QR code","message":"Scan the code shown on the other screen to continue."}}'
WHERE template_name IN ('login', 'payment')
    AND ui = '{"flipButtons":false,"blockApprovalOnCall":false}';
