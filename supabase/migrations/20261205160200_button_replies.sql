-- A tap on an order confirmation's reply button (ids confirm:<order_id> / change:<order_id>, sent by
-- the reply sender) comes back as a message whose body is the button's title; the intake also maps
-- the id back to the order: an order_attachments row (kind button_reply, caption confirm | change)
-- links the message to the order, only when the order belongs to the message's own customer and
-- distributor (a forged id links nothing).

create function public.link_button_reply_v1(p_distributor_id uuid, p_message_id uuid, p_reply_id text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_action text;
  v_order_id uuid;
begin
  if p_reply_id is null or p_reply_id !~ '^(confirm|change):[0-9a-fA-F-]{36}$' then
    return null;
  end if;
  v_action := split_part(p_reply_id, ':', 1);
  select o.id into v_order_id
    from public.orders o
    join public.messages m on m.distributor_id = o.distributor_id and m.customer_id = o.customer_id
   where o.distributor_id = p_distributor_id and o.id = split_part(p_reply_id, ':', 2)::uuid and m.id = p_message_id;
  if v_order_id is null then
    return null;
  end if;
  insert into public.order_attachments (distributor_id, order_id, message_id, kind, caption)
  select p_distributor_id, v_order_id, p_message_id, 'button_reply', v_action
   where not exists (select from public.order_attachments a
                      where a.distributor_id = p_distributor_id and a.message_id = p_message_id
                        and a.order_id = v_order_id and a.kind = 'button_reply');
  return v_order_id;
end
$$;
comment on function public.link_button_reply_v1 is
  'Link a reply-button tap (confirm:<order_id> / change:<order_id>) to its order, for the message''s own customer only';

revoke execute on function public.link_button_reply_v1 from public, anon, authenticated;
grant execute on function public.link_button_reply_v1 to service_role;
