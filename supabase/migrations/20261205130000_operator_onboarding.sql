-- Operator onboarding (issue 15): what the operator's CLI needs that the schema lacked.
--   * the WhatsApp access token stored encrypted at rest (access_token_encrypted, AES-256-GCM under
--     the distributor's data key, sealed by service code: worker/core/encryption.py, column
--     "external_integrations.access_token"); like app_secret it is never readable by authenticated,
--     and unlike it the database never holds it in clear
--   * orders imported from a distributor's ERP: external_id, unique per distributor
--   * the catalog import in one call (upsert by SKU, optional prune = deactivate), atomic
--   * the order history import in one call per order, idempotent on (distributor, external_id)

alter table public.external_integrations add column access_token_encrypted bytea;
comment on column public.external_integrations.access_token_encrypted is
  'secret: the channel API access token (Graph API bearer), AES-256-GCM under the distributor''s data key';
comment on column public.external_integrations.access_token is
  'secret: legacy plaintext access token; the CLI stores access_token_encrypted instead and leaves this null';
-- The audit trigger strips the columns commented "secret:" as they were when it was created.
select private.enable_access_audit('public.external_integrations');

alter table public.orders add column external_id text;
comment on column public.orders.external_id is
  '@external the order''s id in the distributor''s ERP (orders imported by `orderflow orders import`); null otherwise';
create unique index orders_external_key on public.orders (distributor_id, external_id) where external_id is not null;

-- Upsert a whole catalog file in one transaction: p_products is a JSON array of
-- {sku, name, aliases[], unit, pack_size, price_cents, category}, already validated by the caller.
-- p_prune: deactivate the distributor's active products whose SKU the file lacks (never deletes:
-- order lines keep their product). Returns {inserted, updated, deactivated, categories}.
create function public.import_catalog_v1(p_distributor_id uuid, p_products jsonb, p_prune boolean default false)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_currency text;
  v_inserted integer;
  v_updated integer;
  v_deactivated integer := 0;
  v_categories integer;
begin
  select d.currency into v_currency from public.distributors d where d.id = p_distributor_id;
  if not found then
    raise exception 'no distributor %', p_distributor_id using errcode = 'P0002';
  end if;

  create temporary table pg_temp.catalog_rows on commit drop as
  select x.sku, x.name, coalesce(x.aliases, '{}') as aliases, x.unit, coalesce(x.pack_size, 1) as pack_size,
         x.price_cents, nullif(x.category, '') as category
    from jsonb_to_recordset(p_products) as x(sku text, name text, aliases text[], unit text, pack_size integer,
                                             price_cents bigint, category text);

  insert into public.product_categories (distributor_id, name)
  select distinct p_distributor_id, r.category from pg_temp.catalog_rows r where r.category is not null
  on conflict (distributor_id, name) do nothing;
  get diagnostics v_categories = row_count;

  with upserted as (
    insert into public.products as p (distributor_id, category_id, sku, name, aliases, unit, pack_size, price_cents,
                                      currency, active)
    select p_distributor_id, c.id, r.sku, r.name, r.aliases, r.unit, r.pack_size, r.price_cents, v_currency, true
      from pg_temp.catalog_rows r
      left join public.product_categories c on c.distributor_id = p_distributor_id and c.name = r.category
    on conflict (distributor_id, sku) do update
      set category_id = excluded.category_id, name = excluded.name, aliases = excluded.aliases, unit = excluded.unit,
          pack_size = excluded.pack_size, price_cents = excluded.price_cents, currency = excluded.currency, active = true
      where (p.category_id, p.name, p.aliases, p.unit, p.pack_size, p.price_cents, p.currency, p.active)
            is distinct from (excluded.category_id, excluded.name, excluded.aliases, excluded.unit, excluded.pack_size,
                              excluded.price_cents, excluded.currency, true)
    returning (xmax = 0) as inserted
  )
  select count(*) filter (where inserted), count(*) filter (where not inserted) into v_inserted, v_updated
    from upserted;

  if p_prune then
    update public.products p set active = false
     where p.distributor_id = p_distributor_id and p.active
       and not exists (select from pg_temp.catalog_rows r where r.sku = p.sku);
    get diagnostics v_deactivated = row_count;
  end if;

  drop table pg_temp.catalog_rows;
  return jsonb_build_object('inserted', v_inserted, 'updated', v_updated, 'deactivated', v_deactivated,
                            'categories', v_categories);
end
$$;
comment on function public.import_catalog_v1 is
  'Upsert a validated catalog (JSON array) by SKU in one transaction; optionally deactivate SKUs it lacks';

-- One order of a distributor's ERP history: created once per (distributor, external_id) as
-- fulfilled, dated p_ordered_at, with catalog prices; a repeated import returns the existing
-- order. p_items: [{sku, quantity}]; every SKU must be in the catalog (the caller checked).
-- No webhook event: history is not news.
create function public.import_order_v1(
  p_distributor_id uuid,
  p_external_id text,
  p_customer_id uuid,
  p_ordered_at timestamptz,
  p_items jsonb
) returns table (order_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_order_id uuid;
  v_total bigint;
begin
  insert into public.orders (distributor_id, customer_id, external_id, status, currency, created_at)
  select p_distributor_id, p_customer_id, p_external_id, 'fulfilled', d.currency, p_ordered_at
    from public.distributors d where d.id = p_distributor_id
  on conflict (distributor_id, external_id) where external_id is not null do nothing
  returning id into v_order_id;
  if v_order_id is null then
    return query select o.id, false from public.orders o
      where o.distributor_id = p_distributor_id and o.external_id = p_external_id;
    return;
  end if;

  insert into public.order_products (distributor_id, order_id, product_id, line_no, customer_text, sku, product_name,
                                     quantity, unit, unit_price_cents, total_cents, confidence, match_method,
                                     created_at)
  select p_distributor_id, v_order_id, p.id, i.ord::integer, i.item ->> 'sku', p.sku, p.name,
         (i.item ->> 'quantity')::numeric, p.unit, p.price_cents,
         round(p.price_cents * (i.item ->> 'quantity')::numeric)::bigint, 1, 'import', p_ordered_at
    from jsonb_array_elements(p_items) with ordinality as i(item, ord)
    join public.products p on p.distributor_id = p_distributor_id and p.sku = i.item ->> 'sku';

  select coalesce(sum(op.total_cents), 0) into v_total
    from public.order_products op where op.distributor_id = p_distributor_id and op.order_id = v_order_id;
  update public.orders o set subtotal_cents = v_total, total_cents = v_total
   where o.distributor_id = p_distributor_id and o.id = v_order_id;
  return query select v_order_id, true;
end
$$;
comment on function public.import_order_v1 is
  'Import one ERP order (fulfilled, dated, catalog prices); idempotent on (distributor, external_id)';

revoke execute on function public.import_catalog_v1(uuid, jsonb, boolean),
                           public.import_order_v1(uuid, text, uuid, timestamptz, jsonb) from public, anon, authenticated;
grant execute on function public.import_catalog_v1(uuid, jsonb, boolean),
                          public.import_order_v1(uuid, text, uuid, timestamptz, jsonb) to service_role;
