"""The paper's evaluation (Sec. 5.2) as array-level functions: receptive-field geometry, location
instability with its reference values, part interpretability, accuracy, and Fig. 6 heat maps."""

from partlens.metrics.accuracy import (
    multi_category_accuracy,
    per_category_accuracy,
    single_category_accuracy,
)
from partlens.metrics.heatmaps import (
    PartHeatmaps,
    colorize,
    facing_mirror,
    part_heatmap_png,
    part_heatmaps,
    render_part_heatmap,
)
from partlens.metrics.instability_references import (
    part_locked_oracle_reference,
    random_position_reference,
)
from partlens.metrics.location_instability import (
    LocationInstability,
    inferred_part_positions,
    location_instability,
)
from partlens.metrics.multi_category import (
    MultiCategoryInstability,
    MultiCategoryInterpretability,
    filter_target_categories,
    multi_category_location_instability,
    multi_category_part_interpretability,
)
from partlens.metrics.part_interpretability import (
    BestPartDiversity,
    PartInterpretability,
    activation_thresholds,
    best_part_diversity,
    best_part_histogram,
    part_interpretability,
    radius_sensitivity,
    rf_disks,
)
from partlens.metrics.receptive_field import (
    ConvGeometry,
    RFGeometry,
    compose_geometry,
    effective_rf_radius,
    measured_rf_radius,
    radius_holding_mass,
    trace_receptive_field,
    unit_input_gradients,
)

__all__ = [
    "BestPartDiversity",
    "ConvGeometry",
    "LocationInstability",
    "MultiCategoryInstability",
    "MultiCategoryInterpretability",
    "PartHeatmaps",
    "PartInterpretability",
    "RFGeometry",
    "activation_thresholds",
    "best_part_diversity",
    "best_part_histogram",
    "colorize",
    "compose_geometry",
    "effective_rf_radius",
    "facing_mirror",
    "filter_target_categories",
    "inferred_part_positions",
    "location_instability",
    "measured_rf_radius",
    "multi_category_accuracy",
    "multi_category_location_instability",
    "multi_category_part_interpretability",
    "part_heatmap_png",
    "part_heatmaps",
    "part_interpretability",
    "part_locked_oracle_reference",
    "per_category_accuracy",
    "radius_holding_mass",
    "radius_sensitivity",
    "random_position_reference",
    "render_part_heatmap",
    "rf_disks",
    "single_category_accuracy",
    "trace_receptive_field",
    "unit_input_gradients",
]
