-- Demo data of orderflow's own (fictional businesses, people and numbers): three distributors
-- (Mexico/es, Brazil/pt, US/en), each with a catalog, customers, users, a WhatsApp integration,
-- a webhook endpoint for the local demo receiver, and an AI budget (model prices are a migration:
-- 20261205100100_model_prices.sql).
-- Secrets are generated at load time, never stored in the repo.

insert into public.distributors (id, slug, name, country, locale, currency, timezone) values
  ('a1000000-0000-4000-8000-000000000001', 'aurora', 'Distribuidora Aurora', 'MX', 'es-MX', 'MXN', 'America/Mexico_City'),
  ('a2000000-0000-4000-8000-000000000002', 'horizonte', 'Atacado Horizonte', 'BR', 'pt-BR', 'BRL', 'America/Sao_Paulo'),
  ('a3000000-0000-4000-8000-000000000003', 'lakeside', 'Lakeside Restaurant Supply', 'US', 'en-US', 'USD', 'America/New_York');

insert into public.product_categories (distributor_id, name)
select d.id, c.name from public.distributors d
cross join lateral (values ('Bebidas'), ('Abarrotes'), ('Limpieza')) c(name) where d.slug = 'aurora'
union all
select d.id, c.name from public.distributors d
cross join lateral (values ('Bebidas'), ('Mercearia'), ('Limpeza')) c(name) where d.slug = 'horizonte'
union all
select d.id, c.name from public.distributors d
cross join lateral (values ('Produce'), ('Dairy'), ('Disposables'), ('Meat')) c(name) where d.slug = 'lakeside';

insert into public.products (distributor_id, category_id, sku, name, aliases, unit, pack_size, price_cents, currency)
select d.id, c.id, p.sku, p.name, p.aliases, p.unit, p.pack_size, p.price_cents, d.currency
from (values
  ('aurora', 'Bebidas', 'AU-PEP-600', 'Pepsi 600 ml (caja 24)', array['pepsi', 'pepsi 600', 'pepsis'], 'caja', 24, 33000),
  ('aurora', 'Bebidas', 'AU-PEP-2L', 'Pepsi 2 L (paquete 8)', array['pepsi 2 litros', 'pepsi grande'], 'paquete', 8, 27500),
  ('aurora', 'Bebidas', 'AU-MAN-600', 'Manzanita Sol 600 ml (caja 24)', array['manzanita', 'manzanita sol'], 'caja', 24, 31000),
  ('aurora', 'Bebidas', 'AU-AGU-1L', 'Agua Epura 1 L (paquete 12)', array['agua epura', 'epura litro', 'agua de litro'], 'paquete', 12, 12800),
  ('aurora', 'Bebidas', 'AU-TEC-355', 'Cerveza Tecate 355 ml (cartón 24)', array['tecate', 'tecate lata', 'tecates'], 'cartón', 24, 41000),
  ('aurora', 'Bebidas', 'AU-IND-355', 'Cerveza Indio 355 ml (cartón 24)', array['indio', 'cerveza indio'], 'cartón', 24, 42000),
  ('aurora', 'Abarrotes', 'AU-FRI-BAY', 'Frijol bayo 1 kg (fardo 10)', array['frijol bayo', 'frijol'], 'fardo', 10, 39000),
  ('aurora', 'Abarrotes', 'AU-ARR-SOS', 'Arroz Sos 1 kg (fardo 10)', array['arroz', 'arroz sos'], 'fardo', 10, 36000),
  ('aurora', 'Abarrotes', 'AU-ATU-140', 'Atún Dolores 140 g (caja 48)', array['atun', 'atún dolores', 'latas de atun'], 'caja', 48, 98000),
  ('aurora', 'Abarrotes', 'AU-HUE-30', 'Huevo rojo (reja 30)', array['huevo', 'huevo rojo', 'reja de huevo'], 'reja', 30, 10500),
  ('aurora', 'Abarrotes', 'AU-ACE-CAP', 'Aceite Capullo 1 L (caja 12)', array['aceite', 'capullo', 'aceite capullo'], 'caja', 12, 55000),
  ('aurora', 'Limpieza', 'AU-CLO-2L', 'Cloro Cloralex 2 L (caja 6)', array['cloro', 'cloralex'], 'caja', 6, 21000),
  ('aurora', 'Limpieza', 'AU-JAB-ZOT', 'Jabón Zote 400 g (caja 25)', array['zote', 'jabon zote'], 'caja', 25, 47500),
  ('horizonte', 'Bebidas', 'HZ-ANT-350', 'Cerveja Antarctica lata 350 ml (pack 12)', array['antarctica', 'antartica lata'], 'pack', 12, 4100),
  ('horizonte', 'Bebidas', 'HZ-ITA-350', 'Cerveja Itaipava lata 350 ml (pack 12)', array['itaipava'], 'pack', 12, 3900),
  ('horizonte', 'Bebidas', 'HZ-FAN-2L', 'Fanta Laranja 2 L (fardo 6)', array['fanta', 'fanta laranja'], 'fardo', 6, 5900),
  ('horizonte', 'Bebidas', 'HZ-AGU-1L', 'Água mineral Minalba 1,5 L (fardo 6)', array['agua', 'água', 'minalba'], 'fardo', 6, 2100),
  ('horizonte', 'Mercearia', 'HZ-ARR-5K', 'Arroz Camil 5 kg (fardo 6)', array['arroz', 'arroz camil'], 'fardo', 6, 17500),
  ('horizonte', 'Mercearia', 'HZ-FEI-1K', 'Feijão preto Kicaldo 1 kg (fardo 10)', array['feijão', 'feijao preto', 'feijão preto'], 'fardo', 10, 9200),
  ('horizonte', 'Mercearia', 'HZ-MAC-500', 'Macarrão espaguete Renata 500 g (fardo 20)', array['macarrão', 'macarrao', 'espaguete'], 'fardo', 20, 6900),
  ('horizonte', 'Mercearia', 'HZ-CAF-500', 'Café Melitta 500 g (fardo 10)', array['café', 'cafe melitta'], 'fardo', 10, 21000),
  ('horizonte', 'Limpeza', 'HZ-SAB-OMO', 'Sabão em pó Omo 1,6 kg (caixa 9)', array['omo', 'sabão em pó'], 'caixa', 9, 24500),
  ('horizonte', 'Limpeza', 'HZ-AMA-1L', 'Amaciante Comfort 1 L (caixa 12)', array['amaciante', 'comfort'], 'caixa', 12, 15600),
  ('lakeside', 'Produce', 'LK-LET-ICE', 'Iceberg lettuce, 24 ct case', array['iceberg', 'lettuce', 'iceberg lettuce'], 'case', 24, 3200),
  ('lakeside', 'Produce', 'LK-POT-RUS', 'Russet potatoes, 50 lb sack', array['potatoes', 'russets', 'russet potatoes'], 'sack', 1, 2600),
  ('lakeside', 'Produce', 'LK-LEM-165', 'Lemons, 165 ct case', array['lemons', 'case of lemons'], 'case', 165, 4100),
  ('lakeside', 'Dairy', 'LK-CRM-HVY', 'Heavy cream, 1/2 gal (case 6)', array['heavy cream', 'cream'], 'case', 6, 3800),
  ('lakeside', 'Dairy', 'LK-PAR-5', 'Parmesan, grated, 5 lb bag', array['parmesan', 'parm'], 'bag', 1, 3300),
  ('lakeside', 'Meat', 'LK-CHK-THI', 'Chicken thighs, boneless, 40 lb case', array['chicken thighs', 'thighs'], 'case', 1, 9900),
  ('lakeside', 'Meat', 'LK-BEF-BRK', 'Beef brisket, whole, per lb', array['brisket'], 'lb', 1, 520),
  ('lakeside', 'Disposables', 'LK-NAP-DIN', 'Dinner napkins (case 3000)', array['napkins', 'dinner napkins'], 'case', 3000, 4600),
  ('lakeside', 'Disposables', 'LK-STR-WRP', 'Wrapped straws (case 2000)', array['straws'], 'case', 2000, 2700)
) p(slug, category, sku, name, aliases, unit, pack_size, price_cents)
join public.distributors d on d.slug = p.slug
join public.product_categories c on c.distributor_id = d.id and c.name = p.category;

insert into public.customers (distributor_id, name, business_name, phone, preferred_language)
select d.id, c.name, c.business, c.phone, c.lang
from (values
  ('aurora', 'Lupita Herrera', 'Abarrotes Lupita', '5215550000101', 'es'),
  ('aurora', 'Don Chuy', 'Miscelánea El Güero', '5215550000102', 'es'),
  ('horizonte', 'Marcos Lima', 'Mercadinho Bom Preço', '5511900000201', 'pt'),
  ('horizonte', 'Dona Célia', 'Bar da Célia', '5511900000202', 'pt'),
  ('lakeside', 'Dana Brooks', 'Harbor Grill', '15550100301', 'en'),
  ('lakeside', 'Sam Ortiz', 'Taqueria Ortiz', '15550100302', 'en')
) c(slug, name, business, phone, lang)
join public.distributors d on d.slug = c.slug;

-- Users: one admin and one staff member per distributor (passwordless demo accounts).
insert into auth.users (id, email, raw_app_meta_data)
select u.id::uuid, u.email, '{"provider":"email"}'::jsonb
from (values
  ('b1000000-0000-4000-8000-000000000001', 'admin@aurora.example'),
  ('b1000000-0000-4000-8000-000000000002', 'staff@aurora.example'),
  ('b2000000-0000-4000-8000-000000000001', 'admin@horizonte.example'),
  ('b2000000-0000-4000-8000-000000000002', 'staff@horizonte.example'),
  ('b3000000-0000-4000-8000-000000000001', 'admin@lakeside.example'),
  ('b3000000-0000-4000-8000-000000000002', 'staff@lakeside.example')
) u(id, email);

insert into public.user_profiles (id, distributor_id, email, full_name, role)
select u.id, d.id, u.email, initcap(split_part(u.email, '@', 1)) || ' (' || d.name || ')',
       case when u.email like 'admin@%' then 'admin'::public.user_role else 'staff'::public.user_role end
from auth.users u
join public.distributors d on u.email like '%@' || d.slug || '.example'
on conflict (id) do nothing;

-- Channel integrations: a WhatsApp Cloud number per distributor and a generic SMS gateway.
insert into public.external_integrations (distributor_id, kind, name, channel, external_account_id, verify_token, app_secret, signing_secret)
select d.id, 'whatsapp_cloud', d.name || ' WhatsApp', 'whatsapp', 'demo-pnid-' || d.slug,
       encode(sha256(gen_random_uuid()::text::bytea), 'hex'), encode(sha256(gen_random_uuid()::text::bytea), 'hex'), null
from public.distributors d
union all
select d.id, 'channel', d.name || ' SMS gateway', 'sms', 'demo-sms-' || d.slug, null, null,
       'whsec_' || encode(sha256(gen_random_uuid()::text::bytea), 'base64')
from public.distributors d;

-- A webhook endpoint per distributor for the local demo receiver.
insert into public.webhook_endpoints (distributor_id, url, description, secret)
select d.id, 'http://127.0.0.1:8765/hooks/' || d.slug, 'demo receiver',
       'whsec_' || encode(sha256(gen_random_uuid()::text::bytea), 'base64')
from public.distributors d;

insert into public.ai_budgets (distributor_id, monthly_budget_micro_usd, mode)
select d.id, b.budget, b.mode
from (values ('aurora', 50000000, 'soft'), ('horizonte', 20000000, 'hard'), ('lakeside', 100000000, 'soft')) b(slug, budget, mode)
join public.distributors d on d.slug = b.slug;
