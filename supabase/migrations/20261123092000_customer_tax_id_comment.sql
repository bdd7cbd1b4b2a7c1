-- customers.tax_id is the customer's tax number (RFC, CNPJ ...), not a reference to a row:
-- say so, so the audit's "*_id without a foreign key" check knows it is intended.
comment on column public.customers.tax_id is '@external the customer''s tax number (RFC, CNPJ ...), not a reference';
