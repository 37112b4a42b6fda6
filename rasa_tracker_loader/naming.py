"""dlt naming convention that produces the rasa_semantic_schema source layout.

It is dlt's ``snake_case`` convention (nested fields become ``parent__child``, lists become child tables
``table__field``) except for dlt's own system identifiers, which are renamed to the names the 1.x
ingestion pipeline used and the dbt package reads:

=====================  =================
dlt                    this layout
=====================  =================
``_dlt_id``            ``_record_hash``
``_dlt_root_id``       ``_root_hash``
``_dlt_parent_id``     ``_parent_hash``
``_dlt_load_id``       ``_load_id``
``_dlt_list_idx``      ``_pos``
``_dlt_loads``         ``_loads``
``_dlt_version``       ``_version``
``_dlt_pipeline_state`` ``_pipeline_state`` (not created: the loader does not store pipeline state)
``_dlt`` (prefix)      ``_``
=====================  =================

dlt derives every system name by passing the ``_dlt...`` constant through the schema's naming convention
(``Schema._replace_and_apply_naming`` and ``relational.DataItemNormalizer._reset``), so renaming them here
is the supported way to change them; dlt checks that its three system tables start with the normalized
``_dlt`` prefix, hence ``_dlt`` -> ``_``.

dlt imports this module by name (``"rasa_tracker_loader.naming"`` is stored in the schema), so the class must
be called ``NamingConvention``.
"""

from __future__ import annotations

from typing import Final

from dlt.common.normalizers.naming.snake_case import NamingConvention as SnakeCaseNamingConvention

SYSTEM_NAMES: Final[dict[str, str]] = {
    "_dlt": "_",
    "_dlt_id": "_record_hash",
    "_dlt_root_id": "_root_hash",
    "_dlt_parent_id": "_parent_hash",
    "_dlt_load_id": "_load_id",
    "_dlt_list_idx": "_pos",
    "_dlt_loads": "_loads",
    "_dlt_version": "_version",
    "_dlt_pipeline_state": "_pipeline_state",
}


class NamingConvention(SnakeCaseNamingConvention):
    """snake_case with the rasa_semantic_schema names for dlt's system tables and columns."""

    def normalize_identifier(self, identifier: str) -> str:
        if identifier is not None:
            renamed = SYSTEM_NAMES.get(identifier.strip())
            if renamed is not None:
                return renamed
        return super().normalize_identifier(identifier)
