"""An nbconvert preprocessor for tests/notebooks_nbconvert_test.ts.

``python3 -m nbconvert --to notebook --execute`` runs a notebook with the
standard Jupyter client (nbclient). ``ExecuteTwice`` is nbconvert's own
ExecutePreprocessor plus two things, so that one execution serves three
checks:

1. After the whole notebook ran, every code cell runs a second time in the
   same kernel, as a reader who goes back to a cell does. The second pass goes
   from the last cell to the first, so each cell runs again in about the
   state the whole notebook left (later cells' work done, earlier cells' not
   redone): a cell that disposes tensors or deletes a folder that no later
   cell recreates fails here, as it fails for the reader. Failures do not stop
   the run; they are recorded in the notebook's metadata under ``second_run``
   (cell index, error name and message) and the saved outputs stay the first
   pass's.
2. The Deno kernel sometimes publishes a cell's last outputs a few
   milliseconds after it reports ``idle``, and stock nbclient drops them
   (FINDINGS.md, "output race"). Errors are not affected, but the output-length
   check needs every output, so in the first pass (whose outputs are saved)
   each cell's iopub stream is drained for ``grace`` seconds after ``idle``.

Use: ``PYTHONPATH=tests python3 -m nbconvert --to notebook --execute
--NotebookExporter.preprocessors='["_nbconvert_twice.ExecuteTwice"]'
--ExecutePreprocessor.enabled=False --ExecuteTwice.enabled=True NOTEBOOK``.
"""

import copy
from queue import Empty
from time import monotonic

from nbclient.exceptions import CellExecutionComplete, CellExecutionError
from nbclient.util import ensure_async
from nbconvert.preprocessors import ExecutePreprocessor
from nbclient.client import NotebookClient
from traitlets import Bool, Float


class ExecuteTwice(ExecutePreprocessor):
    """nbconvert's execution, then every code cell once more, last to first."""

    twice = Bool(True, help="Run every code cell a second time.").tag(config=True)
    grace = Float(
        0.2, help="Seconds to keep reading a cell's outputs after idle."
    ).tag(config=True)

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        if not getattr(self, "_first_pass", True):
            return
        deadline = monotonic() + self.grace
        while True:
            left = deadline - monotonic()
            if left <= 0:
                return
            try:
                msg = await ensure_async(self.kc.iopub_channel.get_msg(timeout=left))
            except Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass

    def preprocess(self, nb, resources=None, km=None):
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        failures = []
        self._first_pass = True
        with self.setup_kernel():
            info_msg = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            for index, cell in enumerate(self.nb.cells):
                self.preprocess_cell(cell, resources, index)
            if self.twice:
                self._first_pass = False
                first = copy.deepcopy(self.nb.cells)
                for index, cell in reversed(list(enumerate(first))):
                    if cell.cell_type != "code":
                        continue
                    again = copy.deepcopy(cell)
                    try:
                        self.execute_cell(again, index, store_history=True)
                    except CellExecutionError as error:
                        failures.append(
                            {
                                "cell": index,
                                "ename": error.ename,
                                "evalue": str(error.evalue)[:500],
                            }
                        )
                self.nb.cells = first
        if self.twice:
            self.nb.metadata["second_run"] = {
                "order": "last cell to first",
                "failures": sorted(failures, key=lambda f: f["cell"]),
            }
        self.set_widgets_metadata()
        return self.nb, self.resources
