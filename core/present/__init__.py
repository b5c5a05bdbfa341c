"""How results are shown to people: figures (``figures``), the Draw page's answer block
(``answers``) and the lab's words (``glossary``)."""
