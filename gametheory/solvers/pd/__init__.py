"""The prefill/decode resource game: equilibria, mechanisms and regimes under a shared
GPU budget.

Generalized Nash equilibria of concave games with a coupled constraint (Rosen,
Econometrica 33(3) 1965): the variational equilibrium (equal multipliers; Facchinei and
Kanzow, 4OR 5(3) 2007) by projected extragradient (Korpelevich 1976) and a semismooth
Newton method on the Fischer-Burmeister KKT system, normalized equilibria for weights
``r``, and the continuum of generalized equilibria; mechanisms that split the budget
(proportional share, Kelly 1997 and Johari and Tsitsiklis, Math. OR 29(3) 2004; an SLA
planner in the manner of Dynamo's); and the Price of Anarchy of each concept against
the social optimum as the load varies.
"""
