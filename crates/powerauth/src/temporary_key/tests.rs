//! Round trips and negative cases of the temporary key JWT exchange.
