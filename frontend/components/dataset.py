"""The dataset page: a page of a split's samples with part masks or landmarks drawn."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.common import NO_VALUE, offset_pager, option_pills

PAGE_SIZE = 24
OVERLAY_LABELS = {"none": "image only", "masks": "part masks", "landmarks": "landmarks"}


def summary_facts(dataset: dict[str, Any]) -> html.Dl:
    """The dataset's format, categories, parts, landmarks and objects per split."""
    summary = dataset.get("summary", {})
    splits = summary.get("splits", {})
    counts = ", ".join(f"{name} {split['objects']}" for name, split in splits.items())
    facts = [
        ("format", dataset.get("format", "")),
        ("categories", ", ".join(dataset.get("categories", []))),
        ("parts", ", ".join(summary.get("parts", [])) or "none"),
        ("landmarks", ", ".join(summary.get("landmarks", [])) or "none"),
    ]
    facts += [("objects", counts)] if counts else []
    return html.Dl(
        [item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="facts wide"
    )


def has_masks(dataset: dict[str, Any]) -> bool:
    """Whether the dataset's samples carry part masks (a landmark-only one, CUB, has none)."""
    return bool(dataset.get("summary", {}).get("has_masks", True))


def shown_overlay(page: urls.DatasetPage, dataset: dict[str, Any]) -> urls.DatasetPage:
    """The page as drawn: a dataset without part masks draws its landmarks instead."""
    if page.overlay == "masks" and not has_masks(dataset):
        return replace(page, overlay="landmarks")
    return page


def overlay_controls(page: urls.DatasetPage, masks: bool) -> html.Div:
    """Links choosing what the samples are drawn with; without part masks (``masks`` False)
    the part-mask choice is shown disabled, with the reason."""
    pills = option_pills(page, "draw", OVERLAY_LABELS, page.overlay, "overlay", "dataset")
    if masks:
        return pills
    reason = f"{page.name} annotates landmarks, not part masks"
    disabled = html.Span(
        f"{OVERLAY_LABELS['masks']} {NO_VALUE}",
        className="pill absent",
        title=reason,
        id="dataset-overlay-masks",
    )
    kept = [
        disabled if getattr(child, "id", None) == "dataset-overlay-masks" else child
        for child in pills.children
    ]
    note = html.Span(f"({reason})", className="muted absent", id="dataset-absent")
    return html.Div([*kept, note], className="pills")


def pager(page: urls.DatasetPage, shown: int, total: int) -> html.Div:
    """Where this page lies in the split, with links to the pages around it."""
    return offset_pager(page, shown, total, size=PAGE_SIZE, noun="samples", id_prefix="dataset")


def sample_figure(page: urls.DatasetPage, item: dict[str, Any]) -> html.Figure:
    """One sample drawn with the page's overlay, captioned with its category and parts."""
    image = urls.SampleImage(page.name, item["index"], page.split, page.overlay)
    parts = ", ".join(item.get("parts", [])) or "no part masks"
    marks = len(item.get("landmarks", []))
    return html.Figure(
        [
            html.Img(src=image.url(), className="sample", alt=f"sample {item['index']}"),
            html.Figcaption(
                [
                    html.Strong(f"#{item['index']} {item['category']}"),
                    html.Br(),
                    f"{parts} · {marks} landmarks",
                ]
            ),
        ],
        className="sample-cell",
    )


def dataset_view(
    page: urls.DatasetPage, dataset: dict[str, Any], samples: dict[str, Any], names: list[str]
) -> html.Div:
    """The whole dataset page; ``names`` are every dataset the server knows (links)."""
    others = [
        dcc.Link(
            name,
            href=urls.DatasetPage(name).url(),
            className="pill active" if name == page.name else "pill",
        )
        for name in names
    ]
    return html.Div(
        [
            html.H2(f"Dataset {page.name}"),
            html.Div([html.Span("datasets", className="muted"), *others], className="pills"),
            summary_facts(dataset),
            option_pills(
                page, "split", {"train": "train", "test": "test"}, page.split, "split", "dataset"
            ),
            overlay_controls(page, has_masks(dataset)),
            pager(page, len(samples["items"]), samples["total"]),
            html.Div(
                [sample_figure(page, item) for item in samples["items"]], className="grid samples"
            ),
        ],
        id="dataset-view",
    )
