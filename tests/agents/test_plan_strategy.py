"""The plan strategy end to end on scripted Ollama traffic (constructed replies in Ollama's NDJSON wire shape)."""

import pytest

from castling import Agent, Llama, Qwen, tool
from castling.testing import ScriptedOllama
from tests.agents.plan_script import LYON, PARIS, act, done, last_user, more, plan, script_paris_lyon, weather

TASK = "Compare the weather in Paris and Lyon and tell me where to go."


def llama_agent(server, **kwargs):
    return Agent(Llama(server.model, transport=server.transport), tools=[weather], **kwargs)


@pytest.fixture
def server():
    return ScriptedOllama("llama3.2:3b", capabilities=("completion", "tools"))


def test_llama_plans_by_default_and_runs_each_step_with_the_tool(server):
    answer = script_paris_lyon(server)
    result = llama_agent(server).run(TASK)
    assert result.answer == answer
    assert [(s.goal, s.outcome) for s in result.steps] == [(PARIS[0], "rain, 14 C"), (LYON[0], "sun, 22 C")]
    assert [(c.name, c.arguments, c.result) for c in result.tool_calls] == [
        ("weather", {"city": "Paris"}, "rain, 14 C"),
        ("weather", {"city": "Lyon"}, "sun, 22 C"),
    ]
    assert [(p.goal, p.tool) for p in result.plan.steps] == [PARIS, LYON]
    assert result.plan.revisions == 0
    assert result.usage.calls == 5 and result.stop_reason == "answer"
    assert server.pending == 0


def test_every_request_is_schema_constrained_and_sends_no_tools(server):
    script_paris_lyon(server)
    llama_agent(server).run(TASK)
    formats = [r.get("format") for r in server.requests]
    assert all(isinstance(f, dict) and (f.get("type") == "object" or "anyOf" in f) for f in formats)
    assert not any(r.get("tools") for r in server.requests)  # format + tools breaks llama3.2 (ollama#10552)
    assert "weather" in server.requests[0]["messages"][0]["content"]  # tools are described in the prompt


def test_replanner_and_executor_see_the_results_of_past_steps(server):
    script_paris_lyon(server)
    llama_agent(server).run(TASK)
    executor_2, replanner_2 = server.requests[3], server.requests[4]
    assert "rain, 14 C" in last_user(executor_2) and "Current step (2): Get the weather in Lyon" in last_user(
        executor_2
    )
    assert "rain, 14 C" in last_user(replanner_2) and "sun, 22 C" in last_user(replanner_2)


async def test_arun_gives_the_same_result(server):
    answer = script_paris_lyon(server)
    result = await llama_agent(server).arun(TASK)
    assert result.answer == answer
    assert [s.outcome for s in result.steps] == ["rain, 14 C", "sun, 22 C"]


def test_stream_emits_plan_step_and_tool_events_in_order(server):
    answer = script_paris_lyon(server)
    events = list(llama_agent(server).stream(TASK))
    kinds = [e.kind for e in events if e.kind not in ("usage", "thinking")]
    first_text = kinds.index("text")
    assert kinds[:first_text] == ["plan_created", *["step_started", "tool_call", "tool_result", "step_finished"] * 2]
    assert set(kinds[first_text:-1]) == {"text"} and kinds[-1] == "final"
    texts = [e.text for e in events if e.kind == "text"]
    assert "".join(texts) == answer and len(texts) > 1  # streamed while the re-planner wrote it
    last_usage = max(i for i, e in enumerate(events) if e.kind == "usage")
    assert next(i for i, e in enumerate(events) if e.kind == "text") < last_usage  # before its call ended
    assert events[-1].result.answer == answer
    assert next(e for e in events if e.kind == "plan_created").steps == (PARIS, LYON)
    assert sum(1 for e in events if e.kind == "usage") == 5


async def test_astream_emits_the_same_events(server):
    answer = script_paris_lyon(server)
    events = [e async for e in llama_agent(server).astream(TASK) if e.kind != "usage"]
    kinds = [e.kind for e in events]
    assert kinds[0] == "plan_created" and kinds[-2:] == ["text", "final"]
    assert "".join(e.text for e in events if e.kind == "text") == answer
    assert kinds.count("step_finished") == 2


@pytest.mark.parametrize("task", ["hi", "what is 2+2"])
def test_a_task_that_needs_no_tool_is_answered_without_one(server, task):
    server.add_reply(plan(answer="Hello! How can I help?" if task == "hi" else "4"))
    result = llama_agent(server).run(task)
    assert result.answer in ("Hello! How can I help?", "4")
    assert result.tool_calls == [] and result.steps == []
    assert len(server.requests) == 1
    assert result.plan.steps == []


def test_empty_plan_without_an_answer_gets_one_from_the_responder(server):
    server.add_reply(plan())
    server.add_reply('{"answer": "2 + 2 = 4."}')
    result = llama_agent(server).run("what is 2+2")
    assert result.answer == "2 + 2 = 4." and result.tool_calls == []
    assert "what is 2+2" in last_user(server.requests[1])


def test_planning_works_with_a_model_without_the_tools_capability():
    server = ScriptedOllama("llama3.2:3b", capabilities=("completion",))
    answer = script_paris_lyon(server)
    assert llama_agent(server).run(TASK).answer == answer


def test_revised_plan_is_recorded_with_its_history(server):
    server.add_reply(plan(PARIS))
    server.add_reply(act("weather", city="Paris"))
    server.add_reply(more(LYON))  # the re-planner adds a step: a revision
    server.add_reply(act("weather", city="Lyon"))
    server.add_reply(done("Lyon."))
    events = list(llama_agent(server).stream(TASK))
    result = events[-1].result
    revised = [e for e in events if e.kind == "plan_revised"]
    assert len(revised) == 1 and revised[0].steps == (PARIS, LYON) and revised[0].revision == 1
    assert result.plan.revisions == 1
    assert [[s.goal for s in r.steps] for r in result.plan.history] == [[PARIS[0]], [PARIS[0], LYON[0]]]
    assert result.plan.history[1].reason == "revised after step 1"


def test_a_step_answered_without_a_tool(server):
    server.add_reply(plan(("Recall the capital of France", None)))
    server.add_reply(act(answer="Paris"))
    server.add_reply(done("The capital of France is Paris."))
    result = llama_agent(server).run("What is the capital of France?")
    assert result.steps[0].outcome == "Paris" and result.steps[0].tool_calls == []
    assert result.answer == "The capital of France is Paris."


def test_tool_errors_reach_the_replanner_as_results(server):
    server.add_reply(plan(("Get the weather in Rome", "weather")))
    server.add_reply(act("weather", city="Rome"))  # the tool raises KeyError
    server.add_reply(done("I could not get the weather for Rome."))
    result = llama_agent(server).run("Weather in Rome?")
    assert result.steps[0].error and "KeyError" in result.steps[0].outcome
    assert "KeyError" in last_user(server.requests[2])
    assert result.answer == "I could not get the weather for Rome."


def test_a_thread_remembers_earlier_answers(server):
    agent = llama_agent(server)
    server.add_reply(plan(answer="Hello Ada!"))
    agent.run("hi, I am Ada", thread_id="t1")
    server.add_reply(plan(answer="You are Ada."))
    result = agent.run("who am I?", thread_id="t1")
    contents = [m["content"] for m in server.requests[1]["messages"]]
    assert "hi, I am Ada" in contents and "Hello Ada!" in contents
    assert result.answer == "You are Ada." and result.plan.steps == []


def test_qwen_can_plan_too():
    server = ScriptedOllama("qwen3:8b")
    answer = script_paris_lyon(server)
    result = Agent(Qwen("qwen3:8b", transport=server.transport), tools=[weather], strategy="plan").run(TASK)
    assert result.answer == answer and len(result.steps) == 2
    assert server.requests[0]["think"] is True and server.requests[0]["format"]["type"] == "object"


def test_planning_thinking_is_streamed_as_thinking_not_as_answer_text():
    server = ScriptedOllama("qwen3:8b")
    server.add_reply(plan(answer="Hi!"), thinking="A greeting needs no tool.")
    events = list(Agent(Qwen("qwen3:8b", transport=server.transport), tools=[weather], strategy="plan").stream("hi"))
    assert "".join(e.text for e in events if e.kind == "thinking") == "A greeting needs no tool."
    assert [e.text for e in events if e.kind == "text"] == ["Hi!"]


def test_model_name_picks_the_llama_backbone_and_its_plan_strategy():
    agent = Agent("llama3.2:3b", tools=[weather])
    assert isinstance(agent.backbone, Llama) and agent.strategy == "plan"


def test_long_tool_results_are_clipped_in_later_prompts(server):
    @tool
    def page(url: str) -> str:
        """Fetch a page."""
        return "x" * 10_000

    server.add_reply(plan(("Read the page", "page")))
    server.add_reply(act("page", url="http://example.test"))
    server.add_reply(done("It is all x."))
    result = Agent(Llama(server.model, transport=server.transport), tools=[page]).run("What is on the page?")
    assert len(result.steps[0].outcome) == 10_000  # the record keeps everything
    prompt = last_user(server.requests[2])
    assert "6000 more characters cut" in prompt and len(prompt) < 5_000


def test_drawn_plan_graph_shows_every_route_the_nodes_can_take(server):
    drawn = llama_agent(server).graph.get_graph()
    edges = {(edge.source, edge.target) for edge in drawn.edges}
    assert edges >= {
        ("planner", "decide"),
        ("planner", "respond"),
        ("planner", "final"),
        ("planner", "limit"),
        ("decide", "replanner"),
        ("decide", "act"),
        ("act", "replanner"),
        ("act", "decide"),
        ("replanner", "decide"),
        ("replanner", "respond"),
        ("replanner", "final"),
        ("replanner", "limit"),
    }


async def test_a_plan_run_traces_its_nodes_and_no_separate_routing_runs(server):
    script_paris_lyon(server)
    graph = llama_agent(server).graph
    inputs = {"messages": [("user", TASK)], "steps": 0}
    names = [e["name"] async for e in graph.astream_events(inputs, version="v2") if e["event"] == "on_chain_start"]
    assert names.count("decide") == 2 and names.count("act") == 2 and names.count("replanner") == 2
    assert not {"route", "after_decide", "after_step"} & set(names)  # each node routes itself (a Command)
