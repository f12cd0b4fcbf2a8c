"""What a visitor sees before logging in."""

from tests.helpers import redirect_path, text


def test_home_says_who_the_shop_is_for_and_how_to_reach_the_three_desks(client, app):
    page = text(client.get("/"))
    assert "licensed healthcare professionals only" in page.lower()
    assert "Apply for an account" in page
    config = app.config
    for value in (
        config["CUSTOMER_CARE_EMAIL"],
        config["QUOTES_DESK_EMAIL"],
        config["ORDERS_DESK_EMAIL"],
        config["CUSTOMER_CARE_PHONE"],
        config["ORDERS_PHONE"],
        config["FAX_NUMBER"],
        config["SHOP_ADDRESS"],
    ):
        assert value in page


def test_home_shows_desk_details_from_configuration(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "QUOTES_DESK_EMAIL", "quotes@other-supplier.example")
    monkeypatch.setitem(app.config, "FAX_NUMBER", "+1 555 0199")
    page = text(client.get("/"))
    assert "quotes@other-supplier.example" in page
    assert "+1 555 0199" in page


def test_healthz_answers_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_anonymous_catalogue_visit_goes_to_login_with_next(client):
    response = client.get("/catalogue?q=vital&page=2")
    assert response.status_code == 302
    assert redirect_path(response) == "/login?next=/catalogue?q%3Dvital%26page%3D2"


def test_anonymous_product_page_goes_to_login_whether_or_not_the_product_exists(client):
    for path in ("/catalogue/restylane-skinboosters-vital", "/catalogue/no-such-product"):
        response = client.get(path)
        assert response.status_code == 302
        assert redirect_path(response).startswith("/login?next=")
