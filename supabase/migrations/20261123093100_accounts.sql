-- Accounts: signing up through Supabase Auth creates a user_profiles row only for an invited
-- e-mail. An admin invites an e-mail to their distributor with a role (user_invitations; RLS lets
-- admins insert, `orderflow users invite` does it for the platform). When auth.users gets a row
-- whose lower-cased e-mail has a pending (used_at is null), unexpired invitation, the profile is
-- created with that invitation's distributor and role, and the invitation is marked used.
-- No invitation: no profile, so get_current_distributor_id() is null and RLS shows nothing.
-- If several distributors invited the same e-mail, the most recently created invitation wins;
-- the others stay pending until they expire (a user belongs to one distributor).
-- An invitation is used once: a later sign-up with the same e-mail (say after the first auth
-- user was deleted) finds it used and gets nothing.
-- Also the RPC that records the sign-ins the platform learns about (user_sessions).

-- Triggers.

create function private.handle_new_user() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_invitation public.user_invitations%rowtype;
begin
  if new.email is null then
    return null;  -- phone sign-ups: invitations go by e-mail
  end if;
  select i.* into v_invitation
    from public.user_invitations i
   where i.email = lower(new.email) and i.used_at is null and i.expires_at > now()
   order by i.created_at desc, i.id desc
   limit 1
   for update;
  if not found then
    return null;
  end if;

  insert into public.user_profiles (id, distributor_id, email, full_name, role)
  values (new.id, v_invitation.distributor_id, lower(new.email),
          nullif(new.raw_user_meta_data ->> 'full_name', ''), v_invitation.role);
  update public.user_invitations set used_at = now(), used_by = new.id where id = v_invitation.id;
  perform private.log_security_event(v_invitation.distributor_id, 'invitation_used', 'info', new.id::text,
    jsonb_build_object('invitation_id', v_invitation.id, 'user_id', new.id, 'role', v_invitation.role,
                       'invited_by', v_invitation.invited_by));
  return null;
end
$$;
comment on function private.handle_new_user is
  'After sign-up: use the newest pending, unexpired invitation of the e-mail to create the profile';

create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_user();

-- RPCs.

-- Record a sign-in of the calling user. Only their own: a p_user_id other than auth.uid(), or a
-- caller without an active profile, records nothing and returns null.
create function public.record_user_session_v1(p_user_id uuid, p_ip inet, p_user_agent text)
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user_id uuid := auth.uid();
  v_distributor_id uuid;
  v_session_id uuid;
begin
  if v_user_id is null or p_user_id is distinct from v_user_id then
    return null;
  end if;
  select p.distributor_id into v_distributor_id from public.user_profiles p where p.id = v_user_id and p.active;
  if not found then
    return null;
  end if;
  insert into public.user_sessions (distributor_id, user_id, started_at, last_seen_at, ip_address, user_agent)
  values (v_distributor_id, v_user_id, now(), now(), p_ip, left(p_user_agent, 512))
  returning id into v_session_id;
  return v_session_id;
end
$$;
comment on function public.record_user_session_v1 is 'Record a sign-in of the calling user (their own only); returns the session id or null';

revoke execute on function private.handle_new_user from public;
revoke execute on function public.record_user_session_v1 from public, anon, service_role;
grant execute on function public.record_user_session_v1 to authenticated;
