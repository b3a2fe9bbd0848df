"""Luhn check digits for account numbers, so a mistyped number at the counter is caught."""


def luhn_digit(body: str) -> str:
    """The digit that makes body + digit pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:  # positions doubled once the check digit is appended
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def with_check_digit(body: str) -> str:
    return body + luhn_digit(body)


def is_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_digit(number[:-1]) == number[-1]
