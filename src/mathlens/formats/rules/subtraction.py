NATURAL = """Subtract digit by digit from the right. If the first number is the smaller, swap the
two and remember a minus sign. Keep a borrow, starting at 0. At each step take the last digit
of each number (0 if the second has none left), subtract the second digit and the borrow from
the first; if that is negative add 10 and set the borrow to 1, else set it to 0; write the
digit in front of the result. At the end drop leading zeros and put the sign in front."""

PSEUDO = """if num1 < num2: swap them; sign = "-" else sign = ""
result = empty list; borrow = 0
while num1 has digits:
    digit1 = pop last digit of num1
    digit2 = pop last digit of num2, or 0
    diff = digit1 - digit2 - borrow
    borrow = 1 if diff < 0 else 0
    put diff + 10 * borrow at the front of result
drop leading zeros of result (keep one digit)
return sign followed by result"""


def subtract_digit_by_digit(num1, num2):
    negative = len(num1) < len(num2) or (len(num1) == len(num2) and num1 < num2)
    if negative:
        num1, num2 = num2, num1
    result = []
    borrow = 0
    while num1:
        digit1 = num1.pop()
        digit2 = num2.pop() if num2 else 0
        diff = digit1 - digit2 - borrow
        borrow = 1 if diff < 0 else 0
        result.insert(0, diff + 10 * borrow)
    while len(result) > 1 and result[0] == 0:
        result.pop(0)
    if negative:
        result.insert(0, "-")
    return result
