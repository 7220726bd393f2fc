"""An MXNet 1.x Gluon training script runs under Polymix with only its import line changed: scripts/
gluon_training_script.py is run as written under the real MXNet 1.9.1, then with `import mxnet as mx` (and the
`from mxnet ...` lines) turned into polymix ones; both must finish, learn, and round-trip their parameters and
exported model."""
import json
import os
import re
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "gluon_training_script.py")


def _result(stdout):
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, "expected one RESULT line, got:\n" + stdout
    return json.loads(lines[0][len("RESULT "):])


def _check_learned(result, who):
    assert result["accuracy"] >= 0.9, "%s: test accuracy %.3f" % (who, result["accuracy"])
    assert result["losses"][-1] < 0.5 * result["losses"][0], "%s: loss did not fall: %s" % (who, result["losses"])
    assert result["reload_same"], "%s: the reloaded parameters score differently" % who
    assert result["export_same"], "%s: SymbolBlock.imports of the export predicts differently" % who


def test_gluon_script_runs_with_only_the_import_line_changed(tmp_path, run_polymix):
    source = open(SCRIPT).read()
    # Only the import lines may differ: `import mxnet as mx` and `from mxnet... import ...`.
    ported, replaced = re.subn(r"^(import |from )mxnet\b", r"\1polymix", source, flags=re.M)
    assert replaced == 3 and "mxnet" not in re.sub(r'""".*?"""', "", ported, flags=re.S)
    ported_script = tmp_path / "gluon_training_script_polymix.py"
    ported_script.write_text(ported)

    (tmp_path / "mxnet").mkdir()
    reference = subprocess.run([sys.executable, SCRIPT, str(tmp_path / "mxnet")], capture_output=True, text=True,
                               timeout=300)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    _check_learned(_result(reference.stdout), "MXNet 1.9.1")

    (tmp_path / "polymix").mkdir()
    ours = run_polymix(ported_script, tmp_path / "polymix")
    _check_learned(_result(ours.stdout), "Polymix")
