"""Probability flows and entropy production rates in active matter.

Simulation of interacting active particles (AOUP/ABP, O(N) cell and Verlet lists), learning the
score of their stationary density with a permutation-equivariant local transformer, and the
entropy production rate, probability-flow velocity and their per-particle and per-region
decompositions; exact linear (Gaussian) systems check every estimator.

Reference: N. M. Boffi and E. Vanden-Eijnden, "Deep learning probability flows and entropy
production rates in active matter", PNAS 121 (2024), arXiv:2309.12991.
"""

from ._cells import Candidates as Candidates
from ._cells import NeighborList as NeighborList
from ._cells import Neighbors as Neighbors
from ._cells import build_neighbor_list as build_neighbor_list
from ._cells import cell_candidates as cell_candidates
from ._cells import nearest_neighbors as nearest_neighbors
from ._epr import Estimate as Estimate
from ._epr import binned_map as binned_map
from ._epr import entropy_production_rate as entropy_production_rate
from ._epr import local_entropy_production as local_entropy_production
from ._epr import particle_score_identities as particle_score_identities
from ._epr import particle_velocity_g as particle_velocity_g
from ._epr import probability_flow_velocity as probability_flow_velocity
from ._epr import score_identities as score_identities
from ._epr import stationarity_residual as stationarity_residual
from ._fields import ParticleEPR as ParticleEPR
from ._fields import ScoreField as ScoreField
from ._fields import particle_entropy_production as particle_entropy_production
from ._fields import particle_score_fields as particle_score_fields
from ._fit import fit_score as fit_score
from ._fit import make_score_loss as make_score_loss
from ._fit import score_optimizer as score_optimizer
from ._forces import Forces as Forces
from ._forces import conservative_forces as conservative_forces
from ._forces import drift as drift
from ._forces import neighbor_list as neighbor_list
from ._forces import pair_forces as pair_forces
from ._linear import LinearSDE as LinearSDE
from ._linear import aoup_linear_sde as aoup_linear_sde
from ._linear import aoup_trap_covariance as aoup_trap_covariance
from ._linear import aoup_trap_epr as aoup_trap_epr
from ._linear import linear_epr as linear_epr
from ._linear import linear_score as linear_score
from ._linear import linear_velocity_matrix as linear_velocity_matrix
from ._linear import solve_lyapunov as solve_lyapunov
from ._linear import stationary_covariance as stationary_covariance
from ._losses import denoising_score_matching as denoising_score_matching
from ._losses import divergence as divergence
from ._losses import fokker_planck_residual as fokker_planck_residual
from ._losses import hyvarinen_score_matching as hyvarinen_score_matching
from ._network import LocalTransformer as LocalTransformer
from ._network import Patch as Patch
from ._network import particle_patches as particle_patches
from ._network import particle_scores as particle_scores
from ._network import score_and_divergence as score_and_divergence
from ._simulate import ParticleState as ParticleState
from ._simulate import Trajectory as Trajectory
from ._simulate import init_particles as init_particles
from ._simulate import simulate as simulate
from ._simulate import simulate_replicas as simulate_replicas
from ._simulate import step as step
from ._system import ActiveSystem as ActiveSystem
from ._system import box_half_width as box_half_width
from ._system import minimum_image as minimum_image
from ._system import mips_system as mips_system
from ._system import repulsion_magnitude as repulsion_magnitude
from ._system import wrap as wrap

__all__ = [
    "ActiveSystem",
    "Candidates",
    "Estimate",
    "Forces",
    "LinearSDE",
    "LocalTransformer",
    "NeighborList",
    "Neighbors",
    "ParticleEPR",
    "ParticleState",
    "Patch",
    "ScoreField",
    "Trajectory",
    "aoup_linear_sde",
    "aoup_trap_covariance",
    "aoup_trap_epr",
    "binned_map",
    "box_half_width",
    "build_neighbor_list",
    "cell_candidates",
    "conservative_forces",
    "denoising_score_matching",
    "divergence",
    "drift",
    "entropy_production_rate",
    "fit_score",
    "fokker_planck_residual",
    "hyvarinen_score_matching",
    "init_particles",
    "linear_epr",
    "linear_score",
    "linear_velocity_matrix",
    "local_entropy_production",
    "make_score_loss",
    "minimum_image",
    "mips_system",
    "nearest_neighbors",
    "neighbor_list",
    "pair_forces",
    "particle_entropy_production",
    "particle_patches",
    "particle_score_fields",
    "particle_score_identities",
    "particle_scores",
    "particle_velocity_g",
    "probability_flow_velocity",
    "repulsion_magnitude",
    "score_and_divergence",
    "score_identities",
    "score_optimizer",
    "simulate",
    "simulate_replicas",
    "solve_lyapunov",
    "stationarity_residual",
    "stationary_covariance",
    "step",
    "wrap",
]
