"""The offline analyzer reading a message as part of a conversation (ai/offline/conversation.py):
the order-level action, closers, confirmations, removals and each line's operation."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ai.analyzer import AnalysisRequest, RecentOrderLine
from ai.catalog import Catalog, load_catalog_file
from ai.contract import Analysis, Intent, LineOp, OrderAction
from ai.eval.datasets import eval_dir
from ai.offline.analyzer import OfflineAnalyzer
from ai.offline.conversation import is_confirmation, normalise, opener_only, removal_phrases

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer() -> OfflineAnalyzer:
    return OfflineAnalyzer()


def catalog(slug: str) -> Catalog:
    return load_catalog_file(Path(eval_dir()) / f"catalog-{slug}.json")


def order(*items: tuple[str, float]) -> tuple[RecentOrderLine, ...]:
    return tuple(RecentOrderLine(sku=sku, quantity=quantity) for sku, quantity in items)


def read(analyzer: OfflineAnalyzer, slug: str, text: str, *, open_order: tuple[RecentOrderLine, ...] = (),
         last_order: tuple[RecentOrderLine, ...] = (), recent: bool = True, kind: str = "text") -> Analysis:
    return analyzer.analyze_text(AnalysisRequest(text=text, catalog=catalog(slug), now=NOW, open_order=open_order,
                                                 last_order=last_order, open_order_recent=recent, message_kind=kind))


def ops(analysis: Analysis) -> list[tuple[str, str | None, float]]:
    return [(line.op.value, line.sku, line.quantity) for line in analysis.lines]


@pytest.mark.parametrize("text", ["sí", "Ok gracias", "confirmo 👍", "yes please", "looks good, confirm", "sim", "👍",
                                  "sí, es todo"])
def test_a_message_of_confirmation_words_only_is_a_confirmation(text: str) -> None:
    assert is_confirmation(text)


@pytest.mark.parametrize("text", ["sí, y 2 cajas de coca", "ok send 3 more", "sim, mas sem gelo", "hola", "só isso",
                                  "that's all"])
def test_a_confirmation_word_among_other_words_is_not_one(text: str) -> None:
    assert not is_confirmation(text)


def test_a_confirmation_confirms_and_makes_no_line(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "sim, obrigado", open_order=order(("SOL-LEITE-1L-12", 3)))
    assert (analysis.action, analysis.intent, analysis.lines, analysis.needs_review) == (
        OrderAction.CONFIRM, Intent.OTHER, [], False)


def test_a_reply_button_titled_with_a_confirmation_word_confirms(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "Confirm", open_order=order(("NW-LIM-200", 2)), kind="button")
    assert analysis.action == OrderAction.CONFIRM


def test_a_cancellation_cancels_and_leaves_nothing_to_review_with_an_open_order(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "please cancel the order, we're closed", open_order=order(("NW-LIM-200", 2)))
    assert (analysis.action, analysis.intent, analysis.needs_review) == (OrderAction.CANCEL, Intent.ORDER_CANCEL, False)


def test_a_cancellation_without_an_open_order_stays_for_review(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "cancela mi pedido porfa")
    assert analysis.action == OrderAction.CANCEL and "order_cancel" in analysis.review_reasons


def test_cancel_followed_by_a_product_of_the_order_removes_that_product(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "cancela el cloralex", open_order=order(("CLO-1L-12", 1), ("HUE-30", 2)))
    assert (analysis.action, ops(analysis)) == (OrderAction.CHANGE, [("remove", "CLO-1L-12", 0.0)])


def test_removal_words_take_out_the_named_products_of_the_order(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "drop the onions and the avocados",
                    open_order=order(("NW-ONI-YEL-50", 1), ("NW-AVO-48", 2), ("NW-LIM-200", 1)))
    assert sorted(ops(analysis)) == [("remove", "NW-AVO-48", 0.0), ("remove", "NW-ONI-YEL-50", 0.0)]


def test_a_product_named_with_sin_is_a_product_not_a_removal(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "y 2 cajas de coca sin azúcar", open_order=order(("AZU-1K-10", 1)))
    assert ops(analysis) == [("add", "CCZ-600-24", 2.0)]


def test_a_product_already_in_the_recent_order_is_set_and_more_words_add(analyzer: OfflineAnalyzer) -> None:
    base = order(("CC-600-24", 5))
    assert ops(read(analyzer, "valle", "mejor 6 de coca 600", open_order=base)) == [("set", "CC-600-24", 6.0)]
    assert ops(read(analyzer, "valle", "mándame 2 más de coca 600", open_order=base)) == [("add", "CC-600-24", 2.0)]


def test_after_the_window_a_plain_line_of_the_same_product_is_an_addition(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "mándame 2 cajas de coca 600", open_order=order(("CC-600-24", 5)), recent=False)
    assert (analysis.action, ops(analysis)) == (OrderAction.NONE, [("add", "CC-600-24", 2.0)])


def test_a_close_candidate_in_the_order_wins_over_a_better_scored_stranger(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "mejor 8 de agua", open_order=order(("CIEL-1L-12", 5)))
    assert ops(analysis) == [("set", "CIEL-1L-12", 8.0)]


def test_the_usual_repeats_the_last_order_and_carries_only_the_changes(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "repete o último pedido mas sem o gelo",
                    last_order=order(("SOL-SKOL-350-12", 10), ("SOL-GELO-5K", 4)))
    assert (analysis.action, ops(analysis), analysis.needs_review) == (
        OrderAction.REPEAT_LAST, [("remove", "SOL-GELO-5K", 0.0)], False)


def test_the_usual_without_any_history_goes_to_review(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "the usual please")
    assert analysis.action == OrderAction.REPEAT_LAST and "repeat_order_without_history" in analysis.review_reasons


def test_a_separate_order_opener_makes_a_new_order_and_is_no_line(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "aparte, otro pedido para la otra sucursal: 2 cajas de sprite 600",
                    open_order=order(("CC-600-24", 3)))
    assert (analysis.action, ops(analysis)) == (OrderAction.NEW, [("add", "SPR-600-24", 2.0)])
    assert opener_only("otro pedido para el local de la esquina") and not opener_only("otro pedido de 3 cocas")


@pytest.mark.parametrize(("slug", "text"), [("valle", "ya con eso, gracias"), ("northwind", "that's all for today"),
                                            ("sol", "só isso")])
def test_closers_end_the_order(analyzer: OfflineAnalyzer, slug: str, text: str) -> None:
    analysis = read(analyzer, slug, text, open_order=order(("X", 1)))
    assert analysis.closes_order and analysis.action == OrderAction.NONE and analysis.lines == []


def test_portuguese_mas_is_but_not_more(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "o de sempre, mas 4 fardos de coca", last_order=order(("SOL-COCA-2L-6", 2)))
    assert ops(analysis) == [("set", "SOL-COCA-2L-6", 4.0)]


def test_removal_phrases_split_on_joiners() -> None:
    phrases = removal_phrases(normalise("sin el jabón ni el cloro"))
    assert "jabon" in phrases and "el cloro" in phrases


def test_a_follow_up_marker_makes_a_change_of_the_open_order(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "also 3 cases of romaine", open_order=order(("NW-LIM-200", 2)))
    assert (analysis.action, ops(analysis), analysis.intent) == (OrderAction.CHANGE, [("add", "NW-LET-ROM-24", 3.0)],
                                                                 Intent.ORDER)
    assert all(line.op == LineOp.ADD for line in analysis.lines)


def test_a_removed_product_may_be_followed_by_the_reason(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "tira o detergente que ainda tenho bastante",
                    open_order=order(("SOL-DET-YPE-24", 1), ("SOL-CAFE-500-10", 2)))
    assert ops(analysis) == [("remove", "SOL-DET-YPE-24", 0.0)]


def test_a_trailing_correction_tail_does_not_hide_the_product(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "2 caixas de leite não 3", open_order=order(("SOL-LEITE-1L-12", 3)))
    assert ops(analysis) == [("set", "SOL-LEITE-1L-12", 2.0)] and analysis.needs_review is False


def test_a_discourse_marker_is_no_line(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "sol", "outra coisa, manda 2 sacos de carvão")
    assert ops(analysis) == [("add", "SOL-CARV-5K", 2.0)]


def test_more_words_count_for_the_line_they_precede_only(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "northwind", "add 2 cases of lids and just 3 cases of cups",
                    open_order=order(("NW-CUP-16-1000", 1)))
    assert ops(analysis) == [("add", "NW-LID-16-1000", 2.0), ("set", "NW-CUP-16-1000", 3.0)]


def test_a_formal_do_not_send_cancels(analyzer: OfflineAnalyzer) -> None:
    analysis = read(analyzer, "valle", "disculpe, ya no me lo mande hoy", open_order=order(("HUE-30", 2)))
    assert analysis.action == OrderAction.CANCEL
