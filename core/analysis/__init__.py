"""What the pages compute from stored models: inference (``inference``, with every noise
level of the Denoising page at once), denoising (``denoise``), the latent space
(``latent``), inside the CNN (``inside``), mistakes (``mistakes``), runs compared
(``compare``) and the Overview's records (``overview``)."""
