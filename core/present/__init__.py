"""How results are shown to people: figures (``figures``), the Draw page's answer block
(``answers``), the lab's words (``glossary``) and a run's name in words (``runs``)."""
