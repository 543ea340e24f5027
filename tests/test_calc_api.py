"""The calculator over HTTP: one shipment and an uploaded file, with the API's error shape."""

from __future__ import annotations

import io
from datetime import date

from fastapi.testclient import TestClient

from tariffstack.calc.formula import cents
from tariffstack.engine.us import Engine
from tariffstack.law.rates import parse_rate

CSV = ("hts10,origin,entry_date,value,quantity,unit,mode\n"
       "6403.99.9065,VN,2025-09-01,80000,5000,prs,ocean\n"
       "0406.90.1200,FR,2025-10-01,12000,1500,kg,air\n"
       "bad,CN,2025-05-02,1,,,air\n")


def test_one_calculation(client: TestClient, engine: Engine) -> None:
    r = client.get("/api/calc", params={"hts10": "0406.90.1200", "origin": "FR", "date": "2025-10-01",
                                        "value": 12000, "quantity": 1500, "unit": "kg", "mode": "ocean"})
    assert r.status_code == 200, r.text
    body = r.json()
    amount = parse_rate(engine.line("0406.90.1200", date(2025, 10, 1)).general).specific[0].amount_usd
    assert body["duty_by_layer"]["mfn"] == cents(amount * 1500)
    assert body["fees"] and all(f["source"] for f in body["fees"])
    assert {x["layer"] for x in body["layers"]} >= {"mfn", "ieepa_reciprocal"}
    assert body["total_usd"] == round(body["duty_usd"] + body["fees_usd"], 2)


def test_bad_calculation_is_a_4xx_with_the_reason(client: TestClient) -> None:
    r = client.get("/api/calc", params={"hts10": "0406.90.1200", "origin": "FR", "date": "2025-10-01",
                                        "value": 12000, "quantity": 3, "unit": "prs"})
    assert r.status_code == 422 and "cannot convert prs" in r.json()["error"]["message"]
    r = client.get("/api/calc", params={"hts10": "8517.13.0000", "origin": "Narnia", "value": 1})
    assert 400 <= r.status_code < 500 and r.json()["error"]["message"]


def test_uploaded_file(client: TestClient) -> None:
    r = client.post("/api/calc/file", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"]["lines"] == 3 and body["report"]["bad"] == 1
    assert body["report"]["errors"][0]["line"] == 4 and "malformed HTS code" in body["report"]["errors"][0]["error"]
    assert [x["line"] for x in body["lines"]] == [2, 3, 4] and body["lines"][0]["total_usd"] > 0
    x = client.post("/api/calc/file?output=xlsx", content=CSV.encode(), headers={"content-type": "text/csv"})
    assert x.status_code == 200 and x.headers["x-bad-lines"] == "1"
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True)
    assert "priced" in wb.sheetnames and "sources" in wb.sheetnames
    assert client.post("/api/calc/file", content=b"{}", headers={"content-type": "application/json"}).status_code == 415
    bad = client.post("/api/calc/file", content=b"hts10,origin\n1,2\n", headers={"content-type": "text/csv"})
    assert bad.status_code == 422 and "lacks column" in bad.json()["error"]["message"]


def test_uploads_at_once_get_the_dollars_each_gets_alone(client: TestClient, engine: Engine) -> None:
    """The app's one pricer learns formulas as situations come; uploads priced at once must not
    hand one line another's formula (the cache is a list and an index of each key into it)."""
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa

    from tariffstack.calc import Pricer
    from tariffstack.calc.money import price_table

    codes = sorted(d for d in engine.model.lines[-1] if len(d) == 10 and not d.startswith("98"))[::97][:240]
    origins = ["CN", "DE", "VN", "CA", "MX", "BR", "IN", "JP"]
    files = []
    for k in range(8):
        part = codes[k::8]
        files.append(pa.table({"hts10": part, "origin": [origins[(k + j) % 8] for j in range(len(part))],
                               "entry_date": [f"2025-{5 + k:02d}-1{j % 10}" for j in range(len(part))],
                               "value": ["1000"] * len(part), "metal_content_share": ["0.4"] * len(part)}))

    def csv_of(t: pa.Table) -> bytes:
        rows = [",".join(t.column_names)] + [",".join(r) for r in zip(*(t.column(c).to_pylist() for c in t.column_names),
                                                                       strict=True)]
        return ("\n".join(rows) + "\n").encode()

    def post(t: pa.Table) -> list[tuple[object, object]]:
        r = client.post("/api/calc/file", content=csv_of(t), headers={"content-type": "text/csv"})
        assert r.status_code == 200, r.text
        return [(x["total_usd"], x["error"]) for x in r.json()["lines"]]

    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(post, files))
    for t, got in zip(files, together, strict=True):
        alone = price_table(Pricer(engine), t).select(["total_usd", "error"]).to_pylist()
        want = [(None if x["error"] else x["total_usd"], x["error"]) for x in alone]
        assert [(None if e else v, e) for v, e in got] == want
    assert sum(e is None for got in together for _, e in got) > 150
