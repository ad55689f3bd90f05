"""A run folder received from someone else runs no code: scikit-learn models are skops files,
loaded only with the types the kit's own models use; pickles are never opened."""

import os
import pickle
import shutil

from conftest import run_kit
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from skops import io as skops_io

from kit import cli, paths

SLUG = "digit-recognizer"


class Planted:
    """Unpickling this object creates `marker`: what a hostile best.joblib would do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def received_run(workdir, tmp_path, digits_folder):
    """A logreg run trained here and predicted once, copied outside the kit's folders (as a
    colleague's zip or a kernel's output would arrive)."""
    args = ["--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--set", "train.model=logreg"]
    assert cli.main(["train", *args]) == 0
    (run_dir,) = paths.runs_dir(SLUG).iterdir()
    assert (run_dir / "fold0" / "best.skops").is_file() and not list(run_dir.glob("fold*/best.joblib"))
    assert cli.main(["predict", *args[:6], "--runs", run_dir.name]) == 0  # the normal path works
    received = tmp_path / "received"
    shutil.copytree(run_dir, received)
    return received


def predict_refused(received, digits_folder, capsys=None):
    """`python -m kit predict` on `received` (in this process when given `capsys`): exit 2 and
    the one error line."""
    args = ["predict", "--comp", "digits", "--data", str(digits_folder), "--runs", str(received)]
    if capsys is None:
        result = run_kit(*args)
        returncode, stderr = result.returncode, result.stderr
    else:
        capsys.readouterr()
        returncode, stderr = cli.main(args), capsys.readouterr().err
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    (line,) = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


def test_a_received_run_never_unpickles_or_loads_untrusted_types(workdir, tmp_path, digits_folder, capsys):
    received = received_run(workdir, tmp_path, digits_folder)
    marker = tmp_path / "code-ran"
    for checkpoint in received.glob("fold*/best.skops"):
        checkpoint.unlink()
        (checkpoint.parent / "best.joblib").write_bytes(pickle.dumps(Planted(marker)))

    line = predict_refused(received, digits_folder)
    assert "best.joblib: a pickled model" in line and "make train MODEL=logreg" in line
    assert not marker.exists()

    # a pickle renamed best.skops is not a skops file
    for checkpoint in received.glob("fold*/best.joblib"):
        checkpoint.rename(checkpoint.with_name("best.skops"))
    line = predict_refused(received, digits_folder, capsys)
    assert "best.skops: not a readable skops model file" in line
    assert not marker.exists()

    # a skops file naming a function outside the kit's models: refused, named, never built
    hostile = Pipeline([("features", FunctionTransformer(os.system)), ("model", FunctionTransformer())])
    for checkpoint in received.glob("fold*/best.skops"):
        checkpoint.write_bytes(skops_io.dumps(hostile))
    line = predict_refused(received, digits_folder, capsys)
    assert "best.skops: refused" in line and f"{os.system.__module__}.system" in line
