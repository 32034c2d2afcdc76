"""Who the article names as a person (pipeline/text/people.py): the names pronouns and first-person
words are resolved to, so a wrong "person" here becomes a wrong name in a claim."""

from pipeline.text.people import people, person_name


def test_a_possessor_is_cut_whether_singular_or_plural() -> None:
    assert person_name("Donald Trump’s") == "Donald Trump"
    assert person_name("Reuters’ Luciana Lopez") == "Luciana Lopez"  # was the name "Reuters’ Luciana Lopez"
    assert person_name("the Nazis' Kristallnacht") == "Kristallnacht"  # one word: no full name


def test_a_faith_is_no_person() -> None:
    assert person_name("Roman Catholic") is None
    assert person_name("Jewish Voice") is None
    assert person_name("Catherine Cortez Masto") == "Catherine Cortez Masto"


def test_the_article_s_people_leave_out_events_and_faiths() -> None:
    text = (
        "Lori Bernstein says her grandparents fled during the Nazis' Kristallnacht pogrom. "
        "He is a Roman Catholic, Jeb Bush said. She has been deeply disturbed, Bernstein said."
    )
    names = {person.name for person in people(text).values()}
    assert names == {"Lori Bernstein", "Jeb Bush"}


def test_a_first_name_the_name_lists_give_one_gender_gives_it() -> None:
    genders = {p.name: p.gender for p in people("Hillary Clinton spoke. Bernie Sanders listened.").values()}
    assert genders == {"Hillary Clinton": "female", "Bernie Sanders": None}  # "Bernie": mostly female there
