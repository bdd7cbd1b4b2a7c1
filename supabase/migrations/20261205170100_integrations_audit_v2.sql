-- The operator-onboarding migration re-created the audit trigger of external_integrations (to strip the
-- new access_token_encrypted column) with the first audit function, after the security review had moved
-- every audit trigger to the masking one: move it back, with the secret columns as they are now.
select private.enable_access_audit_v2('public.external_integrations');
