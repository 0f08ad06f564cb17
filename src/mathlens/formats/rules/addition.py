NATURAL = """Add two numbers digit by digit, starting from the right. Keep a carry, starting at 0.
At each step take the last remaining digit of each number (0 if a number has no digits left),
add them and the carry, write the last digit of the total in front of the result, and keep
the total divided by 10 (rounded down) as the new carry. When both numbers have no digits
left, write a remaining carry in front of the result."""

PSEUDO = """result = empty list; carry = 0
while num1 or num2 has digits:
    digit1 = pop last digit of num1, or 0
    digit2 = pop last digit of num2, or 0
    total = digit1 + digit2 + carry
    put total mod 10 at the front of result
    carry = total div 10
if carry: put carry at the front of result
return result"""


def sum_digit_by_digit(num1, num2):
    result = []
    carry = 0
    while num1 or num2:
        digit1 = num1.pop() if num1 else 0
        digit2 = num2.pop() if num2 else 0
        total = digit1 + digit2 + carry
        result.insert(0, total % 10)
        carry = total // 10
    if carry:
        result.insert(0, carry)
    return result
