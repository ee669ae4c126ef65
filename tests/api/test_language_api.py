"""The JSON API gives the engine's texts in the reader's language: ``Accept-Language: fr``
or ``?lang=fr``; English by default. Plans are stored with their messages, so a plan solved
once reads in either language."""

from __future__ import annotations

import copy

from tests.api.builders import TINY_SCENARIO, World, arrival_doc, make_operation, wait_plan

FR = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


def test_a_stored_plan_reads_in_french_and_in_english(world: World) -> None:
    op = make_operation(world)
    # a man in an operation whose network has only women's places: a reason for sure
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("M1", gender="man"))
    r = world.call("coord", "POST", "/plans", json={"solver": "greedy", "operation_id": op})
    plan_id = r.json()["id"]
    english = wait_plan(world, plan_id)["result"]["unplaced"][0]
    french = world.client.get(f"/plans/{plan_id}", headers={**world.as_("coord"), **FR}).json()
    by_query = world.call("coord", "GET", f"/plans/{plan_id}?lang=fr").json()
    reason = french["result"]["unplaced"][0]["reasons"][0]
    assert english["reasons"][0].startswith("no shelter passes the rules"), english
    assert reason.startswith("aucun hébergement ne respecte les règles"), reason
    assert "accueille des hommes" not in reason or "exclu" in reason
    assert (
        by_query["result"]["unplaced"][0]["reasons"] == french["result"]["unplaced"][0]["reasons"]
    )
    # the structured form is there for the web pages, the same whatever the language
    assert french["result"]["unplaced"][0]["reason_messages"] == english["reason_messages"]


def test_the_waiting_lists_reasons_are_stored_as_messages_and_read_in_french(
    world: World,
) -> None:
    op = make_operation(world)
    world.call("coord", "POST", f"/operations/{op}/arrivals", json=arrival_doc("M1", gender="man"))
    r = world.call("coord", "POST", "/plans", json={"solver": "greedy", "operation_id": op})
    wait_plan(world, r.json()["id"])
    assert world.call("coord", "POST", f"/plans/{r.json()['id']}/commit").status_code == 200
    english = world.call("coord", "GET", "/arrivals/M1").json()["waiting_reasons"]
    french = world.call("coord", "GET", "/arrivals/M1?lang=fr").json()["waiting_reasons"]
    assert english[0].startswith("no shelter passes the rules"), english
    assert french[0].startswith("aucun hébergement ne respecte les règles"), french
    assert len(english) == len(french)


def test_a_language_the_product_does_not_speak_is_refused_naming_the_parameter(
    world: World,
) -> None:
    r = world.call("coord", "GET", "/plans/nope?lang=de")
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "query.lang", "problem": "one of fr, en"}]


def test_scenario_problems_are_in_french_with_the_field_path(world: World) -> None:
    doc = copy.deepcopy(TINY_SCENARIO)
    doc["arrivals"][0]["gender"] = "female"
    doc["arrivals"][1]["languages"] = ["xx"]
    r = world.client.post("/whatif?solver=greedy", json=doc, headers={**world.as_("coord"), **FR})
    assert r.status_code == 422
    problems = {e["field"]: e["problem"] for e in r.json()["errors"]}
    assert problems["arrivals[0].gender"] == "La valeur doit être 'woman', 'man' ou 'nonbinary'"
    assert problems["arrivals[1].languages[0]"].startswith("« xx » n’est pas une étiquette")
    english = world.call("coord", "POST", "/whatif?solver=greedy", json=doc).json()
    assert {e["field"]: e["problem"] for e in english["errors"]}["arrivals[0].gender"] == (
        "Input should be 'woman', 'man' or 'nonbinary'"
    )


def test_whatif_plans_in_french_on_request(world: World) -> None:
    doc = copy.deepcopy(TINY_SCENARIO)
    # no shelter of the tiny network accepts nonbinary people: she is unplaced, with reasons
    doc["arrivals"].append({**doc["arrivals"][0], "id": "N1", "gender": "nonbinary"})
    r = world.call("analyst", "POST", "/whatif?solver=greedy&explain=false&lang=fr", json=doc)
    assert r.status_code == 200, r.text
    (unplaced,) = r.json()["unplaced"]
    assert unplaced["reasons"] == [
        "aucun hébergement ne respecte les règles (sur 2) : accueille des personnes non "
        "binaires : 2 exclus"
    ]


def test_a_refused_request_body_says_why_in_french(world: World) -> None:
    op = make_operation(world)
    bad = arrival_doc("A9", gender="female", languages=["en", "qqq"])
    r = world.client.post(
        f"/operations/{op}/arrivals", json=bad, headers={**world.as_("coord"), **FR}
    )
    assert r.status_code == 422, r.text
    problems = {e["field"]: e["problem"] for e in r.json()["errors"]}
    assert problems["gender"] == "La valeur doit être 'woman', 'man' ou 'nonbinary'", problems
    assert problems["languages[1]"].startswith("« qqq » n’est pas une étiquette"), problems
