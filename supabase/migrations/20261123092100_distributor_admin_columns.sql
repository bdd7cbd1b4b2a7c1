-- Admins may edit their distributor's profile, not its status (suspension is the platform's call)
-- nor its slug (integrations and the demo address it by slug).
revoke update on public.distributors from authenticated, anon;
grant update (name, country, locale, currency, timezone) on public.distributors to authenticated;
