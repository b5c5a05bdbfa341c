"""The class's own handwriting: the database its samples live in (``db``), collecting,
listing, deleting and exporting them (``samples``), every classifier tested on them
(``evaluate``), the CNN fine-tuned on them (``finetune``) and new symbols learned on the
CNN's features (``symbols``)."""
