from django.core.management import call_command


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path, db):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/customers/", "/api/v1/readings/", "/api/v1/payments/", "/api/v1/cylinders/", "/api/v1/hazards/"):
        assert path in text
