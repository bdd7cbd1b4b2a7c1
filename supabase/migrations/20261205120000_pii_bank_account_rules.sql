-- PII category BANK_ACCOUNT (CLABE, IBAN, ABA routing and account numbers, Brazilian agência/conta, PIX keys):
-- the detector reports it, pii_detection_results stores it, and a distributor may now hold a rule for it.
alter table public.pii_detection_rules drop constraint pii_detection_rules_category_check;
alter table public.pii_detection_rules add constraint pii_detection_rules_category_check
  check (category in ('PERSON', 'PHONE_NUMBER', 'EMAIL_ADDRESS', 'ADDRESS', 'NATIONAL_ID', 'CREDIT_CARD', 'BANK_ACCOUNT'));
