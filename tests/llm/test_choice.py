"""A lettered question answered by one token: the option's probability from the letters' logprobs,
and code's answer standing when the model is less sure than the kind's threshold."""

import asyncio
import json
import math

import httpx2
import openai

from pipeline.llm.choice import Question, ask_choice, combine, decide, letter_shares, orders

QUESTION = Question(
    "Elon Musk denied that he had spoken with Vladimir Putin. SpaceX and the Kremlin did not immediately respond.",
    "Which claim does Musk's denial dispute?",
    ["Musk spoke with Putin before his proposal", "Musk worries about Putin", "None of these"],
)


def _completion(letter_logprobs: dict[str, float]) -> dict[str, object]:
    """A chat completion of one token shaped as llama.cpp's server returns it (top_logprobs, bytes, ids)."""
    alternatives = [{"token": t, "bytes": list(t.encode()), "logprob": lp} for t, lp in letter_logprobs.items()]
    alternatives += [
        {"token": "Answer", "bytes": list(b"Answer"), "logprob": -8.2}, {"token": "a", "bytes": [97], "logprob": -9.9}
    ]
    alternatives.sort(key=lambda a: -a["logprob"])  # type: ignore[operator]
    top = alternatives[0]
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "q",
        "choices": [{
            "index": 0, "finish_reason": "length",
            "message": {"role": "assistant", "content": top["token"]},
            "logprobs": {"content": [{**top, "top_logprobs": alternatives}]},
        }],
        "usage": {"prompt_tokens": 90, "completion_tokens": 1, "total_tokens": 91},
    }  # fmt: skip


def _ask(by_order: dict[str, dict[str, float]]) -> tuple[object, list[dict[str, object]]]:
    """Ask QUESTION of a server that answers each order's prompt with that order's letter logprobs,
    keyed by the text of the option the prompt puts first."""
    bodies: list[dict[str, object]] = []

    def server(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        bodies.append(body)
        prompt = body["messages"][-1]["content"]
        first = next(option for option in QUESTION.options if f"A. {option}\n" in prompt)
        return httpx2.Response(200, json=_completion(by_order[first]))

    async def go():
        client = openai.AsyncOpenAI(base_url="http://model.test/v1", api_key="test", max_retries=0,
                                    http_client=openai.DefaultAsyncHttpxClient(transport=httpx2.MockTransport(server)))
        try:
            return await ask_choice(client, "q", QUESTION, seed="s")
        finally:
            await client.close()

    return asyncio.run(go()), bodies


def test_a_sure_choice_is_taken_and_an_unsure_one_falls_back_to_code():
    threshold = 0.6
    code = QUESTION.options[2]  # code's answer: the denial disputes none of them
    first, second = orders(QUESTION, "s")
    right = QUESTION.options[0]
    sure = {  # both orders put most of the letters' mass on the letter the right option has there
        QUESTION.options[first[0]]: {
            "ABC"[first.index(0)]: -0.1, "ABC"[first.index(1)]: -3.0, "ABC"[first.index(2)]: -4.0
        },
        QUESTION.options[second[0]]: {
            "ABC"[second.index(0)]: -0.2, "ABC"[second.index(1)]: -3.5, "ABC"[second.index(2)]: -3.0
        },
    }
    choice, bodies = _ask(sure)
    assert choice is not None and QUESTION.options[choice.index] == right
    assert choice.probability >= threshold
    assert decide(choice, code, threshold, QUESTION.options) == right
    assert [b["max_tokens"] for b in bodies] == [1, 1] and all(b["logprobs"] for b in bodies)

    # A model that answers "A" whatever A is: its letter bias meets a different option in each order,
    # so no option gets enough of the mass, and code's answer stands.
    biased = {QUESTION.options[first[0]]: {"A": -0.4, "B": -1.5, "C": -2.0},
              QUESTION.options[second[0]]: {"A": -0.4, "B": -1.5, "C": -2.0}}
    choice, _ = _ask(biased)
    assert choice is not None and choice.probability < threshold
    assert decide(choice, code, threshold, QUESTION.options) == code


def test_no_letter_among_the_alternatives_is_no_choice():
    assert letter_shares({"The": -0.1, "a": -2.0, "AC": -3.0}, 3) is None
    assert decide(None, "code's", 0.0, ["model's"]) == "code's"


def test_shares_are_renormalised_among_the_letters_and_a_spaced_letter_counts():
    shares = letter_shares({"A": math.log(0.3), " B": math.log(0.1), "B": math.log(0.1), "Answer": math.log(0.5)}, 2)
    assert shares is not None and [round(s, 6) for s in shares] == [0.6, 0.4]


def test_the_threshold_decides_between_the_models_option_and_codes():
    """Both orders' letter alternatives as llama.cpp returns them, combined by the real functions:
    0.8 on the right option in each order is taken; a 0.5/0.5 split falls back to code's answer."""
    options = ["Putin", "Musk", "Bremmer"]
    order, reverse = [1, 0, 2], [2, 0, 1]  # Musk first, then its reverse: Bremmer, Putin, Musk
    sure = [(order, letter_shares({"B": math.log(0.8), " A": math.log(0.1), "C": math.log(0.1)}, 3)),
            (reverse, letter_shares({"B": math.log(0.8), "A": math.log(0.1), "C": math.log(0.1), "The": -1.0}, 3))]
    unsure = [(order, letter_shares({"A": math.log(0.5), "B": math.log(0.5)}, 3)),
              (reverse, letter_shares({"C": math.log(0.5), "B": math.log(0.5)}, 3))]
    taken, split = combine(sure, 3), combine(unsure, 3)
    assert taken is not None and taken.index == 0 and round(taken.probability, 6) == 0.8
    assert decide(taken, "Bremmer", 0.584, options) == "Putin"
    assert decide(taken, "Bremmer", taken.probability, options) == "Putin"  # at the threshold: taken
    assert split is not None and round(split.probability, 6) == 0.5
    assert decide(split, "Bremmer", 0.584, options) == "Bremmer"
