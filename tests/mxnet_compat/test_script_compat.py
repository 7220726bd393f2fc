"""An MXNet 1.x Gluon training script runs under Polymix with only its import line changed: scripts/
gluon_training_script.py is run as written under the real MXNet 1.9.1, then with `import mxnet as mx` (and the
`from mxnet ...` lines) turned into polymix ones; both must finish, learn, and round-trip their parameters and
exported model."""
import os

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scripts", "gluon_training_script.py")


def _check_learned(result, who):
    assert result["accuracy"] >= 0.9, "%s: test accuracy %.3f" % (who, result["accuracy"])
    assert result["losses"][-1] < 0.5 * result["losses"][0], "%s: loss did not fall: %s" % (who, result["losses"])
    assert result["reload_same"], "%s: the reloaded parameters score differently" % who
    assert result["export_same"], "%s: SymbolBlock.imports of the export predicts differently" % who


def test_gluon_script_runs_with_only_the_import_line_changed(run_script_both_ways):
    theirs, ours = run_script_both_ways(SCRIPT, import_lines=3)
    _check_learned(theirs, "MXNet 1.9.1")
    _check_learned(ours, "Polymix")
