"""One plain sentence per statistic the pages show, used as its tooltip, so a manager need not look anything up."""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "aopc": "Area over the perturbation curve: how far the class probability falls, on average, while the face is "
    "hidden patch by patch in the map's order. Higher than for a random order = the map points at what the model "
    "uses.",
    "abpc": "Area between the curves: the drop when the most relevant patches go first minus the drop when the least "
    "relevant go first. Above 0 = the map ranks the face better than chance.",
    "relevance_mass": "The share of the map's red (positive) relevance that lies inside a face region. Regions "
    "overlap, so shares need not add up to 100 %.",
    "mmd": "Maximum mean discrepancy (squared): how far apart two groups' embeddings lie; 0 = the model represents "
    "them alike. A star marks p < 0.05 in a permutation test.",
    "probe": "A simple (linear) classifier trained to guess the group from the model's features. Far above chance = "
    "the features encode the group, even if the predictions do not show it.",
    "kappa": "Cohen's kappa: how much two raters agree beyond what chance would give (1 = always, 0 = chance "
    "level). Quadratic weights count a near miss as partial agreement.",
    "alpha": "Krippendorff's alpha: how much all annotators agree together beyond chance, for any number of raters "
    "and missing ratings (1 = perfect, 0 = chance level).",
    "holm": "Holm's correction: the p-values are adjusted because many regions are tested at once, so the chance of "
    "even one false alarm stays under 5 %.",
    "parity_gap": "Demographic parity gap: the largest minus the smallest share of a group that the model puts in a "
    "class. 0 = every group gets the class equally often.",
    "equal_opportunity_gap": "Equal-opportunity gap: the largest difference between groups in recall (the share of "
    "a class's faces the model finds), over the classes.",
    "equalized_odds_gap": "Equalized-odds gap: like the equal-opportunity gap, but also counting differences in "
    "false alarms between groups.",
    "macro_f1": "Macro-F1: the F1 score (balance of precision and recall) of each class, averaged with equal "
    "weight, so rare classes count as much as common ones.",
    "worst_group": "Accuracy of the group the model serves worst: the figure a fairness claim must lift.",
    "accuracy_gap": "Best minus worst group accuracy.",
    "interval": "95 % bootstrap interval: the range the figure would likely fall in on another sample of the same "
    "people (resampled by person where the data says who is who).",
    "cancellation": "Gross over net relevance (sum |R| / |sum R|): 1 when the map has one sign; very large when huge "
    "red and blue parts cancel, i.e. the method is numerically unstable on this model.",
}


def tip(name: str) -> str:
    """The tooltip of statistic ``name`` (a key of :data:`GLOSSARY`)."""
    return GLOSSARY[name]
