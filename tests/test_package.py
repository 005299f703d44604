import subprocess
import sys

import iic_tutorial


def test_setup_imports_tensorflow_without_start_up_noise():
    code = "import iic_tutorial as iic; iic.seed_everything(0); import sys; print('ready', file=sys.stderr)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    assert out.stderr.strip() == "ready"  # TF's notices are gone, later stderr still arrives


def test_submodules_load_lazily_and_unknown_names_fail():
    assert iic_tutorial.information.entropy([0.5, 0.5]) > 0
    assert "metrics" in dir(iic_tutorial)
    try:
        iic_tutorial.nonexistent
    except AttributeError as e:
        assert "nonexistent" in str(e)
    else:
        raise AssertionError("expected AttributeError")
