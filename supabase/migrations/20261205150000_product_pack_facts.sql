-- What one catalog unit of a product holds, as the product's name states it: items per pack and the
-- weight or volume of each ("Coca-Cola 600 ml (caja 24)" -> 24 items of 0.6 l; "Chicken breast, 40 lb
-- case" -> 1 item of 40 lb). Derived by ai.pack_facts.pack_facts(name=, unit=, pack_size=), a pure
-- function the analyzer also uses; the catalog import fills the column (named query
-- set_product_pack_facts) so that staff screens and other analyzers read the same facts.
-- Null: not derived yet (rows imported before this column); readers derive it from the row.

alter table public.products
  add column pack_facts jsonb
    check (pack_facts is null or (jsonb_typeof(pack_facts) = 'object' and pack_facts ? 'items'));

comment on column public.products.pack_facts is
  'Items per catalog unit and the weight/volume of each, from the name: {"items", "item_amount", "measure", "pack_amount"} (ai.pack_facts)';
