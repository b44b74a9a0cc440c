"""`yibao user add|list|disable|enable|passwd`: passwords from standard input, refusals in Chinese."""

from __future__ import annotations

import io

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def database(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_DATABASE_URL", f"sqlite:///{tmp_path / 'users.sqlite3'}")


def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *argv: str, stdin: str = "") -> tuple:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_disable_passwd(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(monkeypatch, capsys, "user", "add", "wang", "--role", "township", "--township", "礼义镇",
                       "--password-stdin", stdin="long-enough-1\n")
    assert code == 0 and "乡镇负责人（陵川县礼义镇）" in out
    code, out, _ = run(monkeypatch, capsys, "user", "add", "li", "--role", "admin", "--password-stdin",
                       stdin="long-enough-2\n")
    assert code == 0
    code, out, _ = run(monkeypatch, capsys, "user", "list")
    assert "wang\t乡镇负责人\t陵川县礼义镇\t正常" in out and "li\t县局管理员\t全县\t正常" in out
    assert "long-enough" not in out and "argon2" not in out
    assert run(monkeypatch, capsys, "user", "disable", "wang")[0] == 0
    assert "wang\t乡镇负责人\t陵川县礼义镇\t已停用" in run(monkeypatch, capsys, "user", "list")[1]
    code, out, _ = run(monkeypatch, capsys, "user", "passwd", "li", "--password-stdin", stdin="another-pass-3\n")
    assert code == 0 and "会话全部失效" in out


@pytest.mark.parametrize(("argv", "stdin", "error"), [
    (["wang", "--role", "township"], "long-enough-1\n", "需要 --township"),
    (["wang", "--role", "township", "--township", "不存在镇"], "long-enough-1\n", "没有乡镇“不存在镇”"),
    (["wang", "--role", "staff"], "short\n", "密码至少8个字符"),
    (["wang", "--role", "staff", "--township", "礼义镇"], "long-enough-1\n", "只有乡镇负责人"),
])
def test_refusals(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, argv: list[str], stdin: str,
                  error: str) -> None:
    code, _, err = run(monkeypatch, capsys, "user", "add", *argv, "--password-stdin", stdin=stdin)
    assert code == 2 and error in err


def test_a_name_is_taken_once(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    assert run(monkeypatch, capsys, "user", "add", "zhao", "--role", "staff", "--password-stdin",
               stdin="long-enough-1\n")[0] == 0
    code, _, err = run(monkeypatch, capsys, "user", "add", "zhao", "--role", "admin", "--password-stdin",
                       stdin="long-enough-1\n")
    assert code == 2 and "已存在" in err


def _registry():
    from bot.config import Settings
    from bot.rules.loader import load_registry

    return load_registry(Settings().policy_dirs)


def test_an_unknown_township_lists_the_choices_by_county(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture) -> None:
    """The choices of every county, each under its county's name (never one mixed list, never cut short);
    with --region, that county's alone."""
    registry = _registry()
    code, _, err = run(monkeypatch, capsys, "user", "add", "wang", "--role", "township", "--township", "不存在镇",
                       "--password-stdin", stdin="long-enough-1\n")
    assert code == 2
    lines = err.splitlines()
    for region in registry.regions():
        (line,) = [line for line in lines if line.lstrip().startswith(f"{region}：")]
        names = line.split("：", 1)[1]
        assert names.split("、") == registry.townships(region) or (
            not registry.townships(region) and "没有任务分解表" in names)
    code, _, err = run(monkeypatch, capsys, "user", "add", "wang", "--role", "township", "--township", "不存在镇",
                       "--region", "罗山", "--password-stdin", stdin="long-enough-1\n")
    assert code == 2 and "罗山县" in err
    assert all(name in err for name in registry.townships("罗山县"))
    assert not any(name in err for name in registry.townships("陵川县"))


def test_an_unknown_region_is_refused_with_the_counties(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture) -> None:
    code, _, err = run(monkeypatch, capsys, "user", "add", "wang", "--role", "township", "--township", "礼义镇",
                       "--region", "陵川市", "--password-stdin", stdin="long-enough-1\n")
    assert code == 2 and "陵川市" in err and all(r in err for r in _registry().regions())


def test_a_short_township_name_is_accepted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """Staff write 礼义 as often as 礼义镇, as `yibao qrcode` accepts."""
    code, out, _ = run(monkeypatch, capsys, "user", "add", "wang", "--role", "township", "--township", "礼义",
                       "--password-stdin", stdin="long-enough-1\n")
    assert code == 0 and "乡镇负责人（陵川县礼义镇）" in out
