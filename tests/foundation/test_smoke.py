def test_it_serves_the_login_page(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"Log in to Gasworks" in response.content


def test_it_shows_the_dashboard_to_staff(client, personas):
    client.force_login(personas["cashier"])
    response = client.get("/")
    assert response.status_code == 200
    assert b"Customers" in response.content
