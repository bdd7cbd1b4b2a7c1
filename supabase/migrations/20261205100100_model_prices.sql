-- Model prices live here, and only here: one row per provider, model and effective date, in integer
-- micro-USD per million tokens (input, cached input, output). A price change is a new row with the
-- date it takes effect, in a new migration; a past row is never edited (usage rows keep the price
-- they were billed at through ai_usage_metrics.price_id). Until now the demo seed and a Python table
-- each held a copy, and they disagreed on gpt-4o: the seed priced it at $2.50 from 2024-08-06, the
-- date of the gpt-4o-2024-08-06 snapshot, while the `gpt-4o` name pointed at gpt-4o-2024-05-13
-- ($5.00 / $15.00) until 2024-10-02. A model without a row is not free: the pipeline records its
-- tokens and sends the message to review (price_unknown).
-- OpenAI list prices, standard tier: https://openai.com/api/pricing

insert into public.ai_model_prices (provider, model, effective_from, input_per_mtok_micro_usd,
                                    cached_input_per_mtok_micro_usd, output_per_mtok_micro_usd) values
  ('openai', 'gpt-4o-mini', '2024-07-18', 150000, 75000, 600000),
  ('openai', 'gpt-4o', '2024-05-13', 5000000, 5000000, 15000000),
  ('openai', 'gpt-4o', '2024-10-02', 2500000, 1250000, 10000000),
  ('openai', 'gpt-4.1-mini', '2025-04-14', 400000, 100000, 1600000),
  ('openai', 'gpt-4.1-nano', '2025-04-14', 100000, 25000, 400000),
  ('offline', 'offline-rules-v1', '2024-01-01', 0, 0, 0)
on conflict (provider, model, effective_from) do nothing;  -- a database loaded with the old seed has some

-- The old seed's gpt-4o row (2024-08-06) is wrong for the `gpt-4o` name; drop it unless a usage row was
-- billed at it (those keep it).
delete from public.ai_model_prices p
 where p.provider = 'openai' and p.model = 'gpt-4o' and p.effective_from = '2024-08-06'
   and not exists (select from public.ai_usage_metrics u where u.price_id = p.id);
