def customer_section(request, customer):
    return None
