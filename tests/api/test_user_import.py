"""``placement users import FILE.csv``: many users in one transaction, all or none."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from api.config import Settings
from api.tables import User
from api.user_import import MAX_ROWS, ImportRefused, import_users
from placement.text import render
from tests.api.builders import World, users_cli


def _handles(world: World) -> set[str]:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with Session(engine) as session:
        return set(session.exec(select(User.handle)))


@pytest.mark.slow
def test_import_creates_every_user_with_a_token_that_works(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(
        "handle,role,shelters,days\n"
        "mgr-a,shelter_manager,S-BREST,\n"
        "mgr-b,shelter_manager,S-BREST;S-LYON,7\n"
        "coord-b,coordinator,,\n"
    )
    done = users_cli(settings, "import", str(csv))
    assert done.returncode == 0, done.stderr
    tokens = dict(line.split("\t") for line in done.stdout.splitlines())
    assert set(tokens) == {"mgr-a", "mgr-b", "coord-b"}
    me = world.client.get("/me", headers={"Authorization": f"Bearer {tokens['mgr-b']}"})
    assert me.json()["shelters"] == ["S-BREST", "S-LYON"]
    r = world.client.get("/shelters/S-LYON", headers={"Authorization": f"Bearer {tokens['mgr-a']}"})
    assert r.status_code == 404  # bound to S-BREST only


@pytest.mark.slow
def test_a_bad_row_refuses_the_whole_file_naming_row_and_column(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    csv = tmp_path / "users.csv"
    csv.write_text(
        "handle,role,shelters\n"
        "mgr-ok,shelter_manager,S-BREST\n"  # row 2: fine, but not created: all or none
        "mgr-x,shelter_manager,S-NOWHERE\n"  # row 3: unknown shelter
        "boss,chief,\n"  # row 4: unknown role
        "mgr-ok,shelter_manager,S-LYON\n"  # row 5: the handle is on row 2
        "coord,coordinator,\n"  # row 6: exists already (the world's coordinator)
    )
    done = users_cli(settings, "import", str(csv))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert f"{csv}: row 3, shelters: unknown shelter(s) S-NOWHERE" in lines
    assert any(line.startswith(f"{csv}: row 4, role: must be one of") for line in lines)
    assert f"{csv}: row 5, handle: 'mgr-ok' is on row 2" in lines
    assert f"{csv}: row 6, handle: 'coord' already exists" in lines
    assert "mgr-ok" not in _handles(world)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "row 1: the file is empty"),  # no header at all
        ("handle,role\nx,analyst\n", "row 1, shelters: missing column"),
        ("handle,role,shelters,name\nx,analyst,,Ana\n", "row 1, name: unknown column"),  # no names
        ("handle,role,shelters\n", "row 2: no user in the file"),
        ("handle,role,shelters,days\nx,analyst,,-1\n", "row 2, days: between 0.001"),
        ("handle,role,shelters,days\nx,analyst,,soon\n", "row 2, days:"),
        ("handle,role,shelters\n,analyst,\n", "row 2, handle: empty"),
        ("handle,role,shelters\nx,analyst,,extra\n", "row 2: more cells than columns"),
    ],
)
def test_malformed_files_are_refused_with_the_row_and_column(
    world: World, text: str, problem: str
) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    with pytest.raises(ImportRefused) as refused:
        import_users(engine, text, None)
    english = [render(p) for p in refused.value.problems]
    assert any(p.startswith(problem) for p in english), english
    # the same problems for a French reader: the row and column named, in French
    french = [render(p, "fr") for p in refused.value.problems]
    assert all(p.startswith("ligne ") for p in french), french
    assert not set(english) & set(french), french


def test_a_file_beyond_the_row_limit_is_refused(world: World) -> None:
    engine = world.client.app.state.engine  # type: ignore[attr-defined]
    rows = "".join(f"a{i},analyst,\n" for i in range(MAX_ROWS + 1))
    with pytest.raises(ImportRefused, match=f"more than {MAX_ROWS} users"):
        import_users(engine, "handle,role,shelters\n" + rows, None)
