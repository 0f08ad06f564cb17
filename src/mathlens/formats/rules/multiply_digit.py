NATURAL = """Multiply a number by a single digit, starting from the right. Keep a carry, starting
at 0. At each step take the last remaining digit of the number, multiply it by the digit and
add the carry; write the last digit of the product in front of the result and keep the product
divided by 10 (rounded down) as the carry. At the end write a remaining carry in front and drop
leading zeros."""

PSEUDO = """digit2 = the single digit of num2
result = empty list; carry = 0
while num1 has digits:
    digit1 = pop last digit of num1
    product = digit1 * digit2 + carry
    put product mod 10 at the front of result
    carry = product div 10
if carry: put carry at the front of result
drop leading zeros of result (keep one digit)
return result"""


def multiply_by_digit(num1, num2):
    digit2 = num2[0]
    result = []
    carry = 0
    while num1:
        digit1 = num1.pop()
        product = digit1 * digit2 + carry
        result.insert(0, product % 10)
        carry = product // 10
    if carry:
        result.insert(0, carry)
    while len(result) > 1 and result[0] == 0:
        result.pop(0)
    return result
