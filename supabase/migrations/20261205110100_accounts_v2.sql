-- Accounts v2 (issue 14, findings 1 to 3): which invitation a sign-up uses, and who makes profiles.
--
-- 1. No tenant can influence whether a user joins another tenant. The sign-up takes an
--    invitation automatically only when exactly one distributor holds a pending, unexpired
--    invitation of the e-mail. When two or more do, no profile is made: the user, signed in,
--    lists them (public.my_invitations_v1) and accepts one (public.accept_invitation_v1).
--    Timestamps of invitations are the server's: clients may insert distributor_id, email, role
--    and expires_at only (expires_at between now and 30 days ahead), never created_at, used_at,
--    used_by or invited_by (set to the caller), and may not update invitations (delete and
--    invite again).
-- 2. A profile is made only for a confirmed e-mail: on the sign-up when auth.users arrives with
--    email_confirmed_at set, otherwise on the update that confirms it. E-mails compare lower-cased.
-- 3. Profiles come only from invitations and the service: authenticated may not insert profiles
--    and may update full_name, role and active only (never id, distributor_id or email).

-- 3. Profiles.
drop policy "admin and above add rows to their distributor" on public.user_profiles;
revoke insert, update on public.user_profiles from anon, authenticated;
grant update (full_name, role, active) on public.user_profiles to authenticated;

-- 1. Invitations written by clients.
revoke insert, update on public.user_invitations from anon, authenticated;
grant insert (distributor_id, email, role, expires_at) on public.user_invitations to authenticated;
drop policy "admin and above change their distributor's rows" on public.user_invitations;

create function private.check_client_invitation() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') then
    return new;
  end if;
  new.invited_by := (select auth.uid());
  new.email := lower(new.email);
  if new.expires_at <= now() or new.expires_at > now() + interval '30 days' then
    raise exception 'expires_at must lie between now and 30 days ahead' using errcode = 'check_violation';
  end if;
  return new;
end
$$;
revoke execute on function private.check_client_invitation from public;
create trigger check_client_invitation before insert on public.user_invitations
  for each row execute function private.check_client_invitation();

-- Create the profile from invitation p_invitation_id for user p_user_id (e-mail p_email) and mark it used.
create function private.use_invitation(p_invitation_id uuid, p_user_id uuid, p_email text, p_full_name text)
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_invitation public.user_invitations%rowtype;
begin
  select i.* into v_invitation from public.user_invitations i
   where i.id = p_invitation_id and i.email = lower(p_email) and i.used_at is null and i.expires_at > now()
   for update;
  if not found then
    return null;
  end if;
  insert into public.user_profiles (id, distributor_id, email, full_name, role)
  values (p_user_id, v_invitation.distributor_id, lower(p_email), nullif(p_full_name, ''), v_invitation.role);
  update public.user_invitations set used_at = now(), used_by = p_user_id where id = v_invitation.id;
  perform private.log_security_event(v_invitation.distributor_id, 'invitation_used', 'info', p_user_id::text,
    jsonb_build_object('invitation_id', v_invitation.id, 'user_id', p_user_id, 'role', v_invitation.role,
                       'invited_by', v_invitation.invited_by));
  return v_invitation.distributor_id;
end
$$;
revoke execute on function private.use_invitation from public;

create function private.handle_new_user_v2() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  if new.email is null or new.email_confirmed_at is null then
    return null;  -- phone sign-ups, and e-mails nobody has confirmed yet
  end if;
  if exists (select from public.user_profiles p where p.id = new.id) then
    return null;
  end if;
  select array_agg(i.id order by i.created_at, i.id) into v_ids
    from public.user_invitations i
   where i.email = lower(new.email) and i.used_at is null and i.expires_at > now();
  if v_ids is null
     or (select count(distinct i.distributor_id) from public.user_invitations i where i.id = any (v_ids)) <> 1 then
    return null;  -- none, or several distributors: the user chooses (accept_invitation_v1)
  end if;
  perform private.use_invitation(v_ids[1], new.id, new.email, new.raw_user_meta_data ->> 'full_name');
  return null;
end
$$;
comment on function private.handle_new_user_v2 is
  'Once the e-mail is confirmed: use its pending invitation when exactly one distributor invited it';
revoke execute on function private.handle_new_user_v2 from public;

drop trigger on_auth_user_created on auth.users;
create trigger on_auth_user_created_v2 after insert on auth.users
  for each row execute function private.handle_new_user_v2();
create trigger on_auth_user_confirmed_v2 after update of email_confirmed_at on auth.users
  for each row when (old.email_confirmed_at is null and new.email_confirmed_at is not null)
  execute function private.handle_new_user_v2();

-- The signed-in user's own pending invitations (by their confirmed e-mail), to choose from.
create function public.my_invitations_v1()
returns table (invitation_id uuid, distributor_name text, role public.user_role, expires_at timestamptz)
language sql stable security definer
set search_path = ''
as $$
  select i.id, d.name, i.role, i.expires_at
    from auth.users u
    join public.user_invitations i on i.email = lower(u.email) and i.used_at is null and i.expires_at > now()
    join public.distributors d on d.id = i.distributor_id
   where u.id = (select auth.uid()) and u.email_confirmed_at is not null
     and not exists (select from public.user_profiles p where p.id = u.id)
   order by i.created_at, i.id
$$;
comment on function public.my_invitations_v1 is 'Pending invitations of the caller''s confirmed e-mail while they have no profile';

-- Accept one of them: returns the distributor joined, or null (not yours, used, expired, or you have a profile).
create function public.accept_invitation_v1(p_invitation_id uuid)
returns uuid
language plpgsql security definer
set search_path = ''
as $$
declare
  v_user auth.users%rowtype;
begin
  select u.* into v_user from auth.users u where u.id = (select auth.uid());
  if not found or v_user.email is null or v_user.email_confirmed_at is null
     or exists (select from public.user_profiles p where p.id = v_user.id) then
    return null;
  end if;
  return private.use_invitation(p_invitation_id, v_user.id, v_user.email, v_user.raw_user_meta_data ->> 'full_name');
end
$$;
comment on function public.accept_invitation_v1 is
  'The signed-in user (confirmed e-mail, no profile yet) joins the distributor of one of their invitations';

revoke execute on function public.my_invitations_v1, public.accept_invitation_v1 from public, anon, service_role;
grant execute on function public.my_invitations_v1, public.accept_invitation_v1 to authenticated;
