"""Run parameters: ``ln.track(params=...)`` as Param/ParamValue records."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from lamin_sa.db import session as dbs

if TYPE_CHECKING:
    from lamin_sa.models.core import Run

logger = logging.getLogger(__name__)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def set_params(run: Run, params: dict[str, Any]) -> None:
    """Store ``params`` as Param/ParamValue records linked to ``run``.

    Params are created with ``dtype`` = the Python type name of the value
    (``int``, ``float``, ``str``, ``bool``, ``list``, ``dict``); values are
    get-or-created per (param, value). A run gets one value per param: linking
    a param again replaces the run's previous value.

    Args:
        run: A saved run.
        params: JSON-serializable values by param name.

    Example:
        >>> set_params(ln.Run.get("7jFTkUb05xLJM87KigeF"), {"k": 2})  # doctest: +SKIP
    """
    from lamin_sa.models.core import Param, ParamValue, run_paramvalue

    if not params:
        return
    for name, value in params.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise ValueError(
                f"Param {name!r} must be JSON-serializable, got {type(value).__name__}."
            ) from e
    ctx = dbs.current()
    with dbs.write_transaction(ctx) as session:
        stored = {
            p.name: p
            for p in session.scalars(
                select(Param).where(Param.name.in_(list(params))).order_by(Param.id)
            )
        }
        for name, value in params.items():
            if name not in stored:
                stored[name] = Param(name=name, dtype=type(value).__name__)
                session.add(stored[name])
            elif stored[name].dtype != type(value).__name__:
                logger.warning(
                    "param %r has dtype %s, got a %s value",
                    name,
                    stored[name].dtype,
                    type(value).__name__,
                )
        session.flush()
        param_ids = [stored[n].id for n in params]
        values: dict[tuple[int, str], Any] = {}
        for pv in session.scalars(
            select(ParamValue).where(ParamValue.param_id.in_(param_ids))
        ):
            values.setdefault((pv.param_id, _canonical(pv.value)), pv)
        chosen = []
        for name, value in params.items():
            key = (stored[name].id, _canonical(value))
            if key not in values:
                values[key] = ParamValue(param_id=key[0], value=value)
                session.add(values[key])
            chosen.append(values[key])
        session.flush()
        # one value per param and run: drop the run's old values of these params
        old = select(ParamValue.id).where(ParamValue.param_id.in_(param_ids))
        session.execute(
            delete(run_paramvalue).where(
                run_paramvalue.c.run_id == run.id,
                run_paramvalue.c.paramvalue_id.in_(old),
            )
        )
        session.execute(
            insert(run_paramvalue),
            [
                {"run_id": run.id, "paramvalue_id": pv_id}
                for pv_id in dict.fromkeys(pv.id for pv in chosen)
            ],
        )
        if run in session:
            session.expire(run, ["param_values"])
