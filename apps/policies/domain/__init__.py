"""What routing policies are made of, apart from storage and HTTP: the config document and its
signature, the SDK's bucketing rule, the evidence a recommendation is made from, and the savings a
live policy realised. Services (apps/policies/services/) and selectors compose these."""
