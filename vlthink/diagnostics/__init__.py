"""Representation diagnostics (``vlthink diagnose``): measurements inside a VLM / VLA.

- ``attention``: does the last prompt token attend to the board the question names? Scored
  against segmentation ground truth (:mod:`.attention`, :mod:`.attention_run`).
- ``embeddings``: k-NN accuracy, silhouette and t-SNE of hidden states (:mod:`.embeddings`).
- ``probe``: a linear probe on frozen visual features (:mod:`.probe`).

Model access for all three is one table of families (:mod:`.models`), one forward pass
(:mod:`.forward`); frames and masks come from the VL-Think envs' public API (:mod:`.scenes`).
"""
