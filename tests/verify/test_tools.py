"""verify.tools: discovery reports what is really installed; the sandbox it reports on really confines."""

import shutil

from verify import sandbox, tools


def test_iverilog_found_with_version_when_installed():
    tool = tools.iverilog()
    assert tool.found == bool(shutil.which("iverilog"))
    if tool.found:
        assert tool.version and tool.version[0].isdigit()


def test_old_verilator_is_lint_only_with_reason():
    tool = tools.verilator_lint()
    if tool.found and tools._version_tuple(tool.version) < tools.COCOTB_MIN_VERILATOR:
        assert tool.usable_for == ["lint"] and "cocotb needs >= 5.36" in tool.note


def test_every_missing_tool_says_how_to_install():
    for tool in tools.all_tools():
        assert tool.found or tool.install


def test_bwrap_reports_the_isolation_simulations_get(tmp_path):
    tool, confined = tools.bubblewrap(), sandbox.isolation()
    assert tool.note == confined.description
    assert tool.found == (confined.bwrap is not None)
    if tool.found:  # a working bwrap really confines: the filesystem outside the run dir is read-only
        ran = sandbox.run(["/bin/sh", "-c", f"touch inside && touch {tmp_path.parent}/escape"], tmp_path,
                          writable=[tmp_path])
        assert ran.returncode != 0 and "Read-only file system" in ran.stderr
        assert (tmp_path / "inside").exists() and not (tmp_path.parent / "escape").exists()
        hidden = sandbox.run(["/bin/sh", "-c", "ls -A /run; ps -e -o comm="], tmp_path, writable=[tmp_path])
        assert hidden.stdout.split() == ["bwrap", "sh", "ps"]  # no daemon sockets, no other processes


def test_children_get_an_allowlisted_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    monkeypatch.setenv("HWAGENT_PLAIN", "host-only")
    monkeypatch.setenv("LANG", "C.UTF-8")
    ran = sandbox.run(["/bin/sh", "-c", "echo ${OPENAI_API_KEY:-unset} ${HWAGENT_PLAIN:-unset} $LANG $GIVEN"],
                      tmp_path, env={"GIVEN": "given"})
    assert ran.stdout.split() == ["unset", "unset", "C.UTF-8", "given"]  # by name, never by a secret-looking pattern
