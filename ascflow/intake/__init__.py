"""The customer's upload page and the operator API: where keys enter custody and runs are started or resumed."""
