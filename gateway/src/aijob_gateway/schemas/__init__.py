"""Request and response models of the REST API (the AIJob models themselves live in aijob_api)."""
