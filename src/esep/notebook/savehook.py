"""JupyterLab's save of an edit view goes through here (``FileContentsManager.pre_save_hook``,
set in the server config `esep edit` starts JupyterLab with: ``esep/notebook/jupyter/``).

Every save of a view (Ctrl+S, autosave, "Overwrite" in the "File Changed" dialog) is
either recorded in ``narrative/`` before the file is written, or refused with a message
JupyterLab shows in its "File Save Error" dialog (the text stays in the browser tab):

- unknown placeholder or a code cell added: refused, nothing recorded;
- the view was made from an older build than the latest (a run finished meanwhile): the
  text is recorded, the view file is rewritten from the latest build (the editor's text,
  the new numbers) and the save of the old copy is refused with a message asking to
  reload the notebook from disk, so old numbers are never written back;
- otherwise: recorded, and the file is written with refreshed previews.

Other notebooks and files are saved as usual. An unexpected error does not block the
save (JupyterLab's rule): the file is written and `esep publish` / the next run record
the edit from it.
"""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("esep.savehook")


def _http_error(message: str):
    from tornado.web import HTTPError

    # the message is shown as is; tornado %-formats log messages, so no bare '%'
    return HTTPError(409, message.replace("%", "％"))


def pre_save(model, path, contents_manager, **kwargs):
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    from esep.notebook import editview
    from esep.notebook.edits import META

    meta = model["content"].get("metadata", {})
    if isinstance(meta.get(editview.VIEW_META), dict):
        _save_view(model["content"], Path(contents_manager._get_os_path(path)), path)
    elif isinstance(meta.get(META), dict) and isinstance(meta.get("esep"), dict):
        _save_executed(model["content"], Path(contents_manager._get_os_path(path)), path)


def _save_view(content: dict, os_path: Path, path: str) -> None:
    from esep.core.errors import EsepError
    from esep.core.fsutil import rel
    from esep.notebook import editview

    try:
        on_disk = editview.read_view(os_path) if os_path.exists() else None
        res = editview.record_view(content, on_disk=on_disk)
    except EsepError as exc:
        raise _http_error(str(exc)) from None
    except Exception:  # noqa: BLE001 - never block a save on our bug: publish records from the file
        log.exception("esep: recording the edit view %s failed; it is saved and recorded later", path)
        return
    for line in res.lines():
        log.warning("esep: %s", line)
    if res.stale:
        try:
            editview.write_view(res.unit)
        except EsepError as exc:
            raise _http_error(f"Your text is recorded in {rel(res.record)}, but the view could not be "
                              f"made again: {exc}") from None
        raise _http_error(_rebuilt(rel(res.record), res.latest_build, res.view_build))
    content["metadata"][editview.VIEW_META] = dict(res.view.metadata[editview.VIEW_META])
    editview.refresh_previews(content, res.scraps)


def _save_executed(content: dict, os_path: Path, path: str) -> None:
    """The executed notebook opened directly (`make lab`): record its text at once; refuse
    to write an older build's copy over a newer build."""
    from esep.core.errors import EsepError
    from esep.core.fsutil import rel
    from esep.notebook import editview
    from esep.notebook.edits import META

    try:
        on_disk = editview.read_view(os_path) if os_path.exists() else None
        res = editview.record_notebook_save(content, on_disk)
    except EsepError as exc:
        raise _http_error(f"Not saved: {exc}") from None
    except Exception:  # noqa: BLE001
        log.exception("esep: recording the narrative of %s failed; it is saved and recorded later", path)
        return
    if res.recorded:
        log.warning("esep: %s: recorded %s in %s", res.unit.label, "; ".join(res.recorded), rel(res.record))
    if res.stale:
        raise _http_error(_rebuilt(rel(res.record), res.disk_build, res.saved_build))
    content["metadata"][META] = dict(res.nb.metadata[META])


def _rebuilt(record: str, latest, shown) -> str:
    from esep.notebook.edits import build_time

    return (f"Your text is safe: it is recorded in {record}. Meanwhile the report was rebuilt "
            f"({build_time(latest)}) with new numbers, and this tab still shows the old ones "
            f"(build of {build_time(shown)}), so it is not written over the new build. "
            f"Choose File → Reload Notebook from Disk (or close and reopen it): you get your text with "
            f"the new numbers, then go on editing.")
