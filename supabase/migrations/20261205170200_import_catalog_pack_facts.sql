-- The catalog import also stores what each product's pack holds (products.pack_facts, derived by
-- ai.pack_facts.pack_facts from the row's name, unit and pack size), in the same transaction as the
-- rows themselves: version 2 of the import reads `pack_facts` from each product of p_products.

create function public.import_catalog_v2(p_distributor_id uuid, p_products jsonb, p_prune boolean default false)
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
         x.price_cents, nullif(x.category, '') as category, x.pack_facts
    from jsonb_to_recordset(p_products) as x(sku text, name text, aliases text[], unit text, pack_size integer,
                                             price_cents bigint, category text, pack_facts jsonb);

  insert into public.product_categories (distributor_id, name)
  select distinct p_distributor_id, r.category from pg_temp.catalog_rows r where r.category is not null
  on conflict (distributor_id, name) do nothing;
  get diagnostics v_categories = row_count;

  with upserted as (
    insert into public.products as p (distributor_id, category_id, sku, name, aliases, unit, pack_size, price_cents,
                                      currency, active, pack_facts)
    select p_distributor_id, c.id, r.sku, r.name, r.aliases, r.unit, r.pack_size, r.price_cents, v_currency, true,
           r.pack_facts
      from pg_temp.catalog_rows r
      left join public.product_categories c on c.distributor_id = p_distributor_id and c.name = r.category
    on conflict (distributor_id, sku) do update
      set category_id = excluded.category_id, name = excluded.name, aliases = excluded.aliases, unit = excluded.unit,
          pack_size = excluded.pack_size, price_cents = excluded.price_cents, currency = excluded.currency, active = true,
          pack_facts = excluded.pack_facts
      where (p.category_id, p.name, p.aliases, p.unit, p.pack_size, p.price_cents, p.currency, p.active, p.pack_facts)
            is distinct from (excluded.category_id, excluded.name, excluded.aliases, excluded.unit, excluded.pack_size,
                              excluded.price_cents, excluded.currency, true, excluded.pack_facts)
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
comment on function public.import_catalog_v2 is
  'Upsert a validated catalog (JSON array, with each product''s pack facts) by SKU in one transaction; optionally deactivate SKUs it lacks';
revoke execute on function public.import_catalog_v2(uuid, jsonb, boolean) from public, anon, authenticated;
grant execute on function public.import_catalog_v2(uuid, jsonb, boolean) to service_role;
