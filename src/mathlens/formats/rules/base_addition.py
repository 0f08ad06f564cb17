NATURAL = """Add two numbers written in base `base` digit by digit, starting from the right, as in
decimal addition but with `base` in place of 10: the digit written is the total modulo `base`
and the carry is the total divided by `base` (rounded down)."""

PSEUDO = """result = empty list; carry = 0
while num1 or num2 has digits:
    digit1 = pop last digit of num1, or 0
    digit2 = pop last digit of num2, or 0
    total = digit1 + digit2 + carry
    put total mod base at the front of result
    carry = total div base
if carry: put carry at the front of result
return result"""


def sum_digit_by_digit_in_base(num1, num2, base):
    result = []
    carry = 0
    while num1 or num2:
        digit1 = num1.pop() if num1 else 0
        digit2 = num2.pop() if num2 else 0
        total = digit1 + digit2 + carry
        result.insert(0, total % base)
        carry = total // base
    if carry:
        result.insert(0, carry)
    return result
