-- The two operation templates every sandbox offers. `data_template` and the texts in
-- `form_data` take `${parameter}` placeholders from the operation's parameters.

INSERT INTO operation_templates (template_name, operation_type, data_template, signature_types,
    max_failure_count, expiration_seconds, risk_flags, proximity_check_enabled, form_data, ui)
VALUES ('login', 'login', 'A2', '["POSSESSION_KNOWLEDGE","POSSESSION_BIOMETRY"]', 5, 300, NULL, 0,
    '{"title":"Log in","message":"Do you want to log in to your account?","resultTexts":{"success":"You are logged in.","failure":"Login failed.","reject":"Login rejected."},"attributes":[]}',
    '{"flipButtons":false,"blockApprovalOnCall":false}');

INSERT INTO operation_templates (template_name, operation_type, data_template, signature_types,
    max_failure_count, expiration_seconds, risk_flags, proximity_check_enabled, form_data, ui)
VALUES ('payment', 'authorize_payment', 'A1*A${amount}${currency}*I${iban}',
    '["POSSESSION_KNOWLEDGE","POSSESSION_BIOMETRY"]', 5, 300, NULL, 0,
    '{"title":"Confirm payment","message":"Please confirm the payment of ${amount} ${currency} to ${iban}.","resultTexts":{"success":"Payment confirmed.","failure":"Payment failed.","reject":"Payment rejected."},"attributes":[{"type":"AMOUNT","id":"operation.amount","label":"Amount","amount":"${amount}","currency":"${currency}","amountFormatted":"${amount}","currencyFormatted":"${currency}"},{"type":"KEY_VALUE","id":"operation.account","label":"To account","value":"${iban}"}]}',
    '{"flipButtons":false,"blockApprovalOnCall":false}');
