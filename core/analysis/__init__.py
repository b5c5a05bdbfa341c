"""What the pages compute from stored models: inference (``inference``), denoising
(``denoise``), the latent space (``latent``), every position of a slider at once
(``frames``), inside the CNN (``inside``), mistakes (``mistakes``), runs compared
(``compare``) and the Overview's records (``overview``)."""
